// Reading a job's live output through any Resonate server: the chunks its workers publish
// (output-publisher.ts), seq after seq, with `promise.get` of the next one. A chunk is born
// settled, so no listener can wait for one that does not exist yet: the reader polls, every
// `pollMs` (100 ms: at most a tenth of a second added to a line's way, ten reads a second per
// follower, no write). It learns of a re-dispatch from the next attempt's record and of the
// end from the job's record, handed in as a promise (client/wait.ts, which costs no polling).
import type { AttemptRecord } from "../attempts.ts";
import type { JobResult } from "../jobs/job.ts";
import { attemptId, outputChunkId } from "../jobs/names.ts";
import { readOutputChunk, type OutputChunk, type OutputPart } from "../output-chunk.ts";
import {
  abortableSleep,
  decodeValue,
  isOk,
  isUnreachable,
  request,
  type Send,
} from "../wire/wire.ts";

/** How often the next chunk is asked for while none is there. */
export const FOLLOW_POLL_MS = 100;
/** How often a quiet attempt's successor is looked for: a re-dispatch is rare. */
const NEXT_ATTEMPT_CHECK_MS = 1_000;

export interface FollowOptions {
  /** Read only this attempt; otherwise the latest, and each later one as it starts. */
  attempt?: number | undefined;
  /**
   * Begin at the first attempt rather than the latest: a reader there from the submission on
   * (`submit`) prints every run of a job that runs again (`--retries`), however fast each was.
   */
  fromFirst?: boolean | undefined;
  /** Keep reading as the job writes, until it ends; otherwise what is there now. */
  follow: boolean;
  /** Only the last this many lines of what is there when reading starts. */
  tailLines?: number | undefined;
  /** The job's record once it ends: what ends a follow. */
  ended?: Promise<JobResult> | undefined;
  stop?: AbortSignal | undefined;
  pollMs?: number;
}

export interface FollowEvents {
  /** Output, in the order the job wrote it. */
  onOutput(part: OutputPart): void;
  /** Reading moves on to `record`'s attempt (the first one read, or a re-dispatch). */
  onAttempt?(record: AttemptRecord, previous: number | undefined): void;
}

/** What was read of one attempt. */
export interface AttemptReading {
  chunks: number;
  /** Bytes the chunks read say they left out (cut to the chunk cap, or skipped by --tail). */
  skippedBytes: number;
  /** Whether the attempt's last chunk was read: its output is complete up to skippedBytes. */
  final: boolean;
  /** Whether reading began at its first chunk. */
  fromStart: boolean;
  fullLog?: { host: string; file: string };
}

export interface FollowReport {
  attempts: Map<number, AttemptReading>;
  /** The job's record, where the follow saw the job end. */
  result?: JobResult;
}

export async function readChunk(
  send: Send,
  jobId: string,
  attempt: number,
  seq: number,
): Promise<OutputChunk | undefined> {
  const res = await send(request("promise.get", { id: outputChunkId(jobId, attempt, seq) }));
  if (!isOk(res)) return undefined;
  return readOutputChunk(decodeValue(res.data.promise.param));
}

export async function readAttempt(
  send: Send,
  jobId: string,
  attempt: number,
): Promise<AttemptRecord | undefined> {
  const res = await send(request("promise.get", { id: attemptId(jobId, attempt) }));
  if (!isOk(res)) return undefined;
  const record = decodeValue(res.data.promise.param) as Partial<AttemptRecord> | undefined;
  return record?.attempt === attempt ? (record as AttemptRecord) : undefined;
}

/** The latest attempt on record, from `from` on: attempts are numbered 1, 2, ... */
async function latestAttempt(
  send: Send,
  jobId: string,
  from = 1,
): Promise<AttemptRecord | undefined> {
  let latest: AttemptRecord | undefined;
  for (let n = from; ; n++) {
    const record = await readAttempt(send, jobId, n);
    if (!record) return latest;
    latest = record;
  }
}

/** The last `n` lines of `parts`, their streams kept. */
export function lastLines(parts: readonly OutputPart[], n: number): OutputPart[] {
  const lines: OutputPart[] = [];
  for (const [stream, text] of parts) {
    const pieces = text.split("\n");
    // Text ends in a newline: the split's last piece is empty; a cut head may leave a partial.
    pieces.forEach((piece, i) => {
      if (i === pieces.length - 1 && piece === "") return;
      lines.push([stream, i === pieces.length - 1 ? piece : `${piece}\n`]);
    });
  }
  return n <= 0 ? [] : lines.slice(-n);
}

/**
 * Reads a job's live output into `events` and reports what it read. Resolves when what there
 * is has been read (no follow), when the job has ended and its answering attempt's chunks are
 * read (follow), when a pinned attempt's last chunk is read, or at once when `stop` fires.
 */
export async function followOutput(
  send: Send,
  jobId: string,
  options: FollowOptions,
  events: FollowEvents,
): Promise<FollowReport> {
  const stop = options.stop ?? new AbortController().signal;
  const pollMs = options.pollMs ?? FOLLOW_POLL_MS;
  const report: FollowReport = { attempts: new Map() };
  let ended: JobResult | undefined;
  // The job's end cuts a wait between two reads short: a waiting `submit` of a job that
  // printed nothing would otherwise sit out the rest of a poll interval after its record came.
  const endedNow = new AbortController();
  const nap = AbortSignal.any([stop, endedNow.signal]);
  void options.ended?.then(
    (result) => {
      ended = result;
      endedNow.abort();
    },
    () => undefined,
  );
  const pinned = options.attempt;
  let current: AttemptRecord | undefined;
  let seq = 0;
  let lastNextCheck = 0;
  let catchingUp = options.tailLines !== undefined;
  let heldBack: OutputPart[] = [];
  let tailDropped = false;

  const begin = (record: AttemptRecord): void => {
    const previous = current?.attempt;
    current = record;
    seq = 0;
    // An attempt just begun has no successor yet: looked for after the usual pause, not at once.
    lastNextCheck = Date.now();
    report.attempts.set(record.attempt, {
      chunks: 0,
      skippedBytes: 0,
      final: false,
      fromStart: true,
    });
    events.onAttempt?.(record, previous);
  };
  // Lines held back for --tail are let go once the reader has caught up with the writer.
  const caughtUp = (): void => {
    if (!catchingUp) return;
    catchingUp = false;
    const kept = lastLines(heldBack, options.tailLines ?? 0);
    const reading = current && report.attempts.get(current.attempt);
    if (reading && (tailDropped || kept.length < countLines(heldBack))) reading.fromStart = false;
    heldBack = [];
    for (const part of kept) events.onOutput(part);
  };
  // A long run's chunks are many: only the lines --tail can still print are kept meanwhile.
  const holdBack = (parts: readonly OutputPart[]): void => {
    heldBack.push(...parts);
    if (heldBack.length < 4 * (options.tailLines ?? 0) + 1_000) return;
    const kept = lastLines(heldBack, options.tailLines ?? 0);
    tailDropped ||= kept.length < countLines(heldBack);
    heldBack = kept;
  };

  while (!stop.aborted) {
    try {
      if (!current) {
        const found =
          pinned === undefined
            ? options.fromFirst
              ? await readAttempt(send, jobId, 1)
              : await latestAttempt(send, jobId)
            : await readAttempt(send, jobId, pinned);
        if (found) {
          begin(found);
          continue;
        }
        // Not started, and either it will not (it ended without a run: its queue timeout, a
        // cancel) or nothing is to be waited for.
        if (ended) report.result = ended;
        if (!options.follow || ended) break;
        await abortableSleep(pollMs, nap);
        continue;
      }
      const reading = report.attempts.get(current.attempt)!;
      // After the last chunk only a later attempt or the end can come.
      const chunk = reading.final ? undefined : await readChunk(send, jobId, current.attempt, seq);
      if (chunk) {
        seq += 1;
        reading.chunks += 1;
        reading.skippedBytes += chunk.skippedBytes;
        if (chunk.fullLog) reading.fullLog = chunk.fullLog;
        if (catchingUp) holdBack(chunk.parts);
        else for (const part of chunk.parts) events.onOutput(part);
        if (!chunk.final) continue;
        reading.final = true;
      }
      caughtUp();
      if (!options.follow) break;
      if (ended) {
        // The record is there, so the answering attempt's chunks are all published: read on
        // to that attempt if it is a later one, else stop.
        if (pinned === undefined && ended.attempt > current.attempt) {
          const answering = await readAttempt(send, jobId, ended.attempt);
          if (answering) {
            begin(answering);
            continue;
          }
        }
        // One more look, for a chunk published between the last read and the end.
        if (!reading.final && (await readChunk(send, jobId, current.attempt, seq))) continue;
        report.result = ended;
        break;
      }
      if (pinned !== undefined && reading.final) break;
      const now = Date.now();
      if (pinned === undefined && (reading.final || now - lastNextCheck >= NEXT_ATTEMPT_CHECK_MS)) {
        lastNextCheck = now;
        const next = await readAttempt(send, jobId, current.attempt + 1);
        if (next) {
          // The earlier run lost the job: read what it published meanwhile, then move on.
          if (!reading.final && (await readChunk(send, jobId, current.attempt, seq))) continue;
          begin(next);
          continue;
        }
      }
      await abortableSleep(pollMs, nap);
    } catch (error) {
      // A server restarting: the chunks are durable there; keep asking until it is back, or
      // until the job has ended (a server that refuses these reads, to a token scoped away
      // from them, must not hold the reader past the job's end).
      if (!isUnreachable(error)) throw error;
      if (ended) {
        report.result = ended;
        break;
      }
      await abortableSleep(pollMs * 4, nap);
    }
  }
  return report;
}

function countLines(parts: readonly OutputPart[]): number {
  return parts.reduce((sum, [, text]) => sum + (text.match(/\n/g)?.length ?? 0), 0);
}

/** Whether a follow's live output is the whole of the job's answering attempt's output. */
export type StreamVerdict =
  | { kind: "complete" }
  /** Nothing of the answering attempt came live: print the record's output instead. */
  | { kind: "none" }
  /** Some came, not all: say so once rather than print the record's output twice. */
  | { kind: "partial"; note: string };

export function streamVerdict(report: FollowReport, result: JobResult): StreamVerdict {
  const reading = report.attempts.get(result.attempt);
  if (!reading || reading.chunks === 0) return { kind: "none" };
  if (reading.final && reading.fromStart && reading.skippedBytes === 0) return { kind: "complete" };
  const missing =
    reading.skippedBytes > 0
      ? `left out ${reading.skippedBytes} bytes (each chunk keeps the last 64 KiB a second)`
      : !reading.fromStart
        ? "began after the job's first lines"
        : "ended before the attempt's last chunk";
  const where = reading.fullLog
    ? `the whole log is ${reading.fullLog.file} on ${reading.fullLog.host}`
    : `'modulate logs ${result.id}' prints the record's output`;
  return { kind: "partial", note: `the live output of job ${result.id} ${missing}: ${where}` };
}
