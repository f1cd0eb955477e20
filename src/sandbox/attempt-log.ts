// The per-attempt log: one JSON object a line, {t, stream, line}, appended as the job writes.
// `logs` and the dashboard read it while the job runs. Bounded, like the captured output.
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
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
    await mkdir(dir, { recursive: true });
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
