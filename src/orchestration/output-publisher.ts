// The worker's side of live output: an attempt's lines, as the job writes them, published as
// chunk promises through the public protocol (output-chunk.ts), so that `logs --follow` and a
// waiting `submit` on any machine can read them. One write per chunk, at most one chunk per
// interval per attempt: the first output after a quiet interval goes at once (a script that
// prints a line a second sees no added delay), the rest of a busy interval at its end. The
// server's load stays bounded whatever the job prints; the whole output stays in the attempt
// log on the worker's disk.
import {
  ChunkBuffer,
  chunkBytes,
  chunkIntervalMs,
  DEFAULT_PACING,
  type OutputChunk,
  type OutputStreamName,
  type PublishPacing,
} from "./output-chunk.ts";
import { jobChildTags, outputChunkId, TAG } from "./jobs/names.ts";
import { encodeValue, isOk, request, type Send } from "./wire/wire.ts";

/** Starts a timer, returns its cancel: the real one by default, a test's own otherwise. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

const realSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

export interface OutputPublisherOptions {
  send: Send;
  jobId: string;
  /** The attempt's number, maybe still being claimed: nothing is published before it is. */
  attempt: number | Promise<number>;
  /** Where the whole output is kept, named in a chunk that skipped bytes. */
  fullLog?: { host: string; file: (attempt: number) => string };
  pacing?: Partial<PublishPacing>;
  clock?: () => number;
  schedule?: Schedule;
  /**
   * Publish a final chunk even for output the job's record could hold whole: a job that may
   * run again (`--retries`) keeps only its last run's output in its record. Default false.
   */
  publishShortOutput?: boolean;
}

/** A chunk and the number it goes under, kept until the server has it. */
interface Outgoing {
  seq: number;
  chunk: OutputChunk;
}

export class OutputPublisher {
  readonly #options: OutputPublisherOptions;
  readonly #pacing: PublishPacing;
  readonly #clock: () => number;
  readonly #schedule: Schedule;
  readonly #buffer: ChunkBuffer;
  #seq = 0;
  #publishedBytes = 0;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #cancelTimer: (() => void) | undefined;
  #inFlight: Promise<void> | undefined;
  /** A chunk the server did not take: sent again, under its number, before anything newer. */
  #unsent: Outgoing | undefined;
  #closed = false;
  /** The job's processes have exited: nothing more is published before `finish`. */
  #processesEnded = false;
  /** Writes the server refused or that failed to reach it: said once in the final count. */
  failedWrites = 0;

  constructor(options: OutputPublisherOptions) {
    this.#options = options;
    this.#pacing = { ...DEFAULT_PACING, ...options.pacing };
    this.#clock = options.clock ?? Date.now;
    this.#schedule = options.schedule ?? realSchedule;
    this.#buffer = new ChunkBuffer(this.#pacing.chunkMaxBytes);
    // An attempt never claimed publishes nothing, and its lines are dropped.
    if (typeof options.attempt !== "number") options.attempt.catch(() => this.abandon());
  }

  /** Chunks published so far (the next one's number). */
  get published(): number {
    return this.#seq - (this.#unsent ? 1 : 0);
  }

  /** One line the job wrote; published at once or at the end of the current interval. */
  line(stream: OutputStreamName, text: string, t: number = this.#clock()): void {
    if (this.#closed) return;
    this.#buffer.push(stream, text, t);
    this.#wake();
  }

  /**
   * The job's processes have exited: all it printed is in hand (or on its way through the
   * pipes), and the record follows once the sandbox is closed. A chunk waiting on its gather
   * or interval is not sent now, so a short job whose clean-up outlasts the gather costs no
   * write (the record holds its output); whatever is left goes at `finish`, as the final chunk
   * if one went before.
   */
  processesEnded(): void {
    this.#processesEnded = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /**
   * Publishes what is left as the attempt's final chunk and resolves once the server has it,
   * or after `timeoutMs`: a server away must not hold the job's answer back for long.
   */
  async finish(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    // Nothing published yet and all of it in hand (a job of a few milliseconds): the record
    // holds it whole, and readers that find no chunk print the record's, so no write is made
    // and the answer waits for none.
    if (this.#seq === 0 && !this.#buffer.hasSkipped && !this.#options.publishShortOutput) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const flushed = (async () => {
      await this.#inFlight;
      // A chunk the server did not take goes once more, then the final one; if it fails
      // again the final one is not sent, since its number would leave a gap a reader waits on.
      if (this.#unsent) await this.#sendOutgoing(this.#unsent);
      if (!this.#unsent) await this.#sendOutgoing(this.#next(true));
    })();
    try {
      await Promise.race([flushed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops without a final chunk: the attempt was never ours (its claim failed). */
  abandon(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #wake(): void {
    if (this.#closed || this.#processesEnded || this.#cancelTimer || this.#inFlight) return;
    if (this.#buffer.isEmpty && !this.#unsent) return;
    const due = Math.max(
      this.#pacing.gatherMs,
      this.#lastSentAt + chunkIntervalMs(this.#pacing, this.#publishedBytes) - this.#clock(),
    );
    if (due <= 0) {
      this.#flush();
      return;
    }
    this.#cancelTimer = this.#schedule(() => {
      this.#cancelTimer = undefined;
      this.#flush();
    }, due);
  }

  #flush(): void {
    if (this.#closed || this.#processesEnded) return;
    const outgoing = this.#unsent ?? this.#next(false);
    this.#lastSentAt = this.#clock();
    this.#inFlight = this.#sendOutgoing(outgoing).finally(() => {
      this.#inFlight = undefined;
      this.#wake();
    });
  }

  #next(final: boolean): Outgoing {
    const chunk: OutputChunk = this.#buffer.take();
    if (final) chunk.final = true;
    return { seq: this.#seq++, chunk };
  }

  async #sendOutgoing(outgoing: Outgoing): Promise<void> {
    this.#unsent = undefined;
    try {
      const attempt = await this.#options.attempt;
      const { chunk } = outgoing;
      const full = this.#options.fullLog;
      if (chunk.skippedBytes > 0 && full)
        chunk.fullLog = { host: full.host, file: full.file(attempt) };
      const now = this.#clock();
      const { jobId } = this.#options;
      const id = outputChunkId(jobId, attempt, outgoing.seq);
      const res = await this.#options.send(
        request("promise.create", {
          id,
          // Already past: the promise is born settled on any Resonate server, so it holds no
          // timer and no task there; the creation is the one write.
          timeoutAt: now,
          param: encodeValue(chunk),
          // Declared in the job's lineage, as everything a job creates is (names.ts).
          tags: { [TAG.outputOf]: jobId, ...jobChildTags(jobId, id) },
        }),
      );
      if (!isOk(res)) throw new Error(`the server refused chunk ${outgoing.seq}`);
      this.#publishedBytes += chunkBytes(chunk);
    } catch {
      // The job runs on whatever the server does: the chunk goes again at the next turn,
      // under its number (creating is idempotent), and output written meanwhile waits.
      this.failedWrites += 1;
      this.#unsent = outgoing;
    }
  }
}
