// The record of one chunk of an attempt's live output, as a worker publishes it and a follower
// reads it: a promise `outputChunkId(job, attempt, seq)` born settled, this record its param.
// Pure: the shape, its reading, the batching rules both sides agree on, and the buffer a
// worker fills between two chunks.

/** The two streams a job writes; the sandbox's own notes are not part of the live output. */
export type OutputStreamName = "stdout" | "stderr";

/** A run of output of one stream, in the order the job wrote it. */
export type OutputPart = readonly [stream: OutputStreamName, text: string];

export interface OutputChunk {
  /** What the job wrote in this chunk's window, lines of one stream joined; each ends in "\n". */
  parts: OutputPart[];
  /** Bytes written in this window that the chunk does not hold: the oldest, cut to the cap. */
  skippedBytes: number;
  /** When the first and the last line of the window were written (ms since the epoch). */
  fromT: number;
  toT: number;
  /** The attempt's last chunk: its run is over, nothing follows under this attempt. */
  final?: true;
  /** Where the attempt's whole output is, named where bytes were skipped: the worker's disk. */
  fullLog?: { host: string; file: string };
}

/** The rules a worker publishes an attempt's output by. */
export interface PublishPacing {
  /**
   * One chunk at most this often while output is small. Default 800 ms: a line printed in a
   * busy interval waits for its end, and with the follower's poll on top a whole second was
   * the p95 (bench:ops); about 1.25 writes a second per printing job.
   */
  intervalMs: number;
  /** A chunk holds at most this many bytes of output: the last ones. Default 64 KiB. */
  chunkMaxBytes: number;
  /** After each this many bytes published, the interval doubles. Default 4 MiB. */
  slowAfterBytes: number;
  /** The interval never grows past this. Default 60 s. */
  maxIntervalMs: number;
  /**
   * A chunk due at once still waits this long, so that lines written together (a line on
   * stdout and one on stderr) go together rather than a whole interval apart, and so that a
   * short job whose processes end meanwhile publishes nothing (its record holds its output):
   * python flushes a pipe's output as it exits, and its exit came 12-95 ms (median 25) after
   * that output on a loaded two-core machine (issue 17), which a 20 ms gather missed, costing
   * two chunk writes a trivial job. Followers poll every 100 ms, so this adds little to what
   * they wait. Default 100 ms.
   */
  gatherMs: number;
}

export const DEFAULT_PACING: PublishPacing = {
  intervalMs: 800,
  chunkMaxBytes: 64 * 1024,
  slowAfterBytes: 4 * 1024 * 1024,
  maxIntervalMs: 60_000,
  gatherMs: 100,
};

/**
 * How long after one chunk the next may go, once `publishedBytes` have gone: a job that
 * prints a lot for hours costs the server a bounded amount (README: the live output's costs).
 */
export function chunkIntervalMs(pacing: PublishPacing, publishedBytes: number): number {
  const doublings = Math.floor(publishedBytes / pacing.slowAfterBytes);
  return Math.min(pacing.maxIntervalMs, pacing.intervalMs * 2 ** Math.min(doublings, 30));
}

/** The chunk a promise's decoded param holds, or undefined for anything else. */
export function readOutputChunk(value: unknown): OutputChunk | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const chunk = value as Partial<OutputChunk>;
  if (!Array.isArray(chunk.parts) || typeof chunk.skippedBytes !== "number") return undefined;
  const parts = chunk.parts.filter(
    (part): part is OutputPart =>
      Array.isArray(part) &&
      (part[0] === "stdout" || part[0] === "stderr") &&
      typeof part[1] === "string",
  );
  return { ...(chunk as OutputChunk), parts };
}

/** Bytes of a chunk's output, as the job wrote them. */
export function chunkBytes(chunk: OutputChunk): number {
  return chunk.parts.reduce((sum, [, text]) => sum + Buffer.byteLength(text, "utf8"), 0);
}

/** What is written between two chunks, cut to the chunk's cap by dropping the oldest bytes. */
export class ChunkBuffer {
  readonly #maxBytes: number;
  #parts: [OutputStreamName, string][] = [];
  #bytes = 0;
  #skippedBytes = 0;
  #fromT = 0;
  #toT = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Whether bytes of this window were left out. */
  get hasSkipped(): boolean {
    return this.#skippedBytes > 0;
  }

  get isEmpty(): boolean {
    return this.#parts.length === 0 && this.#skippedBytes === 0;
  }

  /** Adds one line (its newline added back) written at `t`. */
  push(stream: OutputStreamName, line: string, t: number): void {
    const text = `${line}\n`;
    if (this.isEmpty) this.#fromT = t;
    this.#toT = t;
    const last = this.#parts[this.#parts.length - 1];
    if (last && last[0] === stream) last[1] += text;
    else this.#parts.push([stream, text]);
    this.#bytes += Buffer.byteLength(text, "utf8");
    this.#cut();
  }

  /** The chunk of what was written since the last one; the buffer starts empty again. */
  take(): Omit<OutputChunk, "final" | "fullLog"> {
    const chunk = {
      parts: this.#parts.map(([stream, text]): OutputPart => [stream, text]),
      skippedBytes: this.#skippedBytes,
      fromT: this.#fromT,
      toT: this.#toT,
    };
    this.#parts = [];
    this.#bytes = 0;
    this.#skippedBytes = 0;
    return chunk;
  }

  /** Drops the oldest bytes until the rest fits: a follower wants the latest output. */
  #cut(): void {
    while (this.#bytes > this.#maxBytes) {
      const first = this.#parts[0];
      if (!first) return;
      const firstBytes = Buffer.byteLength(first[1], "utf8");
      const excess = this.#bytes - this.#maxBytes;
      if (firstBytes <= excess) {
        this.#parts.shift();
        this.#bytes -= firstBytes;
        this.#skippedBytes += firstBytes;
        continue;
      }
      // A cut inside a character costs a replacement character at the chunk's start, no more.
      const kept = Buffer.from(first[1], "utf8").subarray(excess).toString("utf8");
      first[1] = kept;
      this.#skippedBytes += excess;
      this.#bytes -= excess;
    }
  }
}
