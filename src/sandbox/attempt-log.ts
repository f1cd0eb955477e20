// The per-attempt log: one JSON object a line, {t, stream, line}, appended as the job writes.
// `logs` and the dashboard read it while the job runs. Bounded, like the captured output.
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../common/units.ts";

export type LogStream = "stdout" | "stderr" | "sandbox";

/** One line of the log file. `t` is milliseconds since the epoch. */
export interface LogRecord {
  readonly t: number;
  readonly stream: LogStream;
  readonly line: string;
}

export class AttemptLog {
  readonly #file: WriteStream;
  readonly #now: () => number;
  readonly #maxBytes: number;
  #writtenBytes = 0;
  #full = false;

  private constructor(file: WriteStream, maxBytes: number, now: () => number) {
    this.#file = file;
    this.#maxBytes = maxBytes;
    this.#now = now;
  }

  /**
   * Makes the directory of a job's logs, which its attempts share: a worker does so while it
   * claims the attempt's number, which names the file.
   */
  static async makeDir(dir: string): Promise<void> {
    // One mkdir: the log root is there but for a worker's first job (or one removed since),
    // when its parents are made too; a later attempt finds its job's directory made.
    try {
      await mkdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      if (code !== "ENOENT") throw error;
      await mkdir(dir, { recursive: true });
    }
  }

  /** Opens (appending) `file`, in a directory `makeDir` made. */
  static async open(
    file: string,
    maxBytes: number,
    now: () => number = Date.now,
  ): Promise<AttemptLog> {
    const stream = createWriteStream(file, { flags: "a" });
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", reject);
    });
    return new AttemptLog(stream, maxBytes, now);
  }

  /** Whether the log has reached its cap and ignores further lines. */
  get isFull(): boolean {
    return this.#full;
  }

  write(stream: LogStream, line: string | Buffer): void {
    if (this.#full) return;
    const text = typeof line === "string" ? line : line.toString("utf8");
    const record = `${JSON.stringify({ t: this.#now(), stream, line: text } satisfies LogRecord)}\n`;
    this.#writtenBytes += Buffer.byteLength(record);
    if (this.#writtenBytes > this.#maxBytes && stream !== "sandbox") {
      this.#full = true;
      const note = `log stopped after ${formatBytes(this.#maxBytes)}; the result keeps the output's last part`;
      this.#file.write(
        `${JSON.stringify({ t: this.#now(), stream: "sandbox", line: note } satisfies LogRecord)}\n`,
      );
      return;
    }
    this.#file.write(record);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#file.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}

/** An attempt log's name in its job's directory (paths.ts `attemptLogFile`). */
const ATTEMPT_LOG_NAME = /^attempt-\d+\.jsonl$/;

/**
 * Removes the log directories of jobs whose every attempt log was last written more than
 * `keepMs` ago: a worker's disk holds each job's whole output that long after its last line.
 * Only a directory holding nothing but attempt logs is removed: the log directory also holds
 * the sandbox's own files. Returns how many went; a file that cannot be read stays.
 */
export async function pruneAttemptLogs(
  logDir: string,
  keepMs: number,
  now: number,
): Promise<number> {
  const entries = await readdir(logDir, { withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(logDir, entry.name);
    try {
      const files = await readdir(dir);
      if (files.length === 0 || !files.every((name) => ATTEMPT_LOG_NAME.test(name))) continue;
      const written = await Promise.all(
        files.map(async (name) => (await stat(path.join(dir, name))).mtimeMs),
      );
      if (Math.max(...written) > now - keepMs) continue;
      await rm(dir, { recursive: true, force: true });
      removed += 1;
    } catch {
      // Gone meanwhile, or unreadable: the next sweep looks again.
    }
  }
  return removed;
}
