// A job's result record must fit in the one request that settles its promise, whatever the
// job printed and whatever the worker's --max-output keeps: a record the server refuses is
// never settled, its lease lapses and the job runs again and again (issue 12, item 4). Pure:
// the captured output in, the record's output fields cut to a budget out. What is cut stays in
// the attempt's log on the worker, and the reason says where.
import { formatBytes } from "../../common/units.ts";
import type { JobOutputFile } from "./job.ts";

/** One stream as the sandbox captured it: its first and last bytes, and what fell between. */
export interface CapturedStream {
  readonly head: string;
  /** Empty unless bytes were dropped between head and tail. */
  readonly tail: string;
  readonly totalBytes: number;
  readonly droppedBytes: number;
}

export interface ResultOutput {
  stdout: string;
  stderr: string;
  outputs: JobOutputFile[];
  /** One sentence for the result's reason when something was cut to fit; "" otherwise. */
  cutNote: string;
}

export interface FitInput {
  stdout: CapturedStream;
  stderr: CapturedStream;
  outputs: readonly JobOutputFile[];
  /** Bytes of JSON the whole record may have. */
  budgetBytes: number;
  /** JSON bytes of the rest of the record (ids, reason, times): what the budget must hold too. */
  otherFieldsBytes: number;
  /** Where the full output is: "the attempt log /path on host". */
  fullOutputWhere: string;
}

/** Room kept for the markers and the note that a cut adds. */
const NOTE_ROOM_BYTES = 4096;

/** Head, a line saying how much was dropped, then tail: how a person reads captured output. */
function joinStream(stream: CapturedStream): string {
  if (stream.droppedBytes === 0) return stream.head + stream.tail;
  return `${stream.head}\n[... ${stream.droppedBytes} bytes dropped ...]\n${stream.tail}`;
}

/** Bytes `text` takes inside a JSON string: escapes included, as UTF-8. */
export function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), "utf8") - 2;
}

/** JSON bytes of the code unit at `i` (with its pair, if any) and how many units it spans. */
function unitCost(text: string, i: number): [bytes: number, units: number] {
  const c = text.charCodeAt(i);
  if (c < 0x20) return [c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6, 1];
  if (c === 0x22 || c === 0x5c) return [2, 1];
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    // A lone surrogate is written as \udXXX.
    return next >= 0xdc00 && next <= 0xdfff ? [4, 2] : [6, 1];
  }
  if (c >= 0xdc00 && c <= 0xdfff) return [6, 1];
  return [3, 1];
}

/** The longest start of `text` whose JSON is at most `budgetBytes`, never half a pair. */
export function headWithin(text: string, budgetBytes: number): string {
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const [bytes, units] = unitCost(text, i);
    if (used + bytes > budgetBytes) break;
    used += bytes;
    i += units;
  }
  return text.slice(0, i);
}

/** The longest end of `text` whose JSON is at most `budgetBytes`, never half a pair. */
export function tailWithin(text: string, budgetBytes: number): string {
  let used = 0;
  let i = text.length;
  while (i > 0) {
    const low = text.charCodeAt(i - 1);
    const high = i >= 2 ? text.charCodeAt(i - 2) : 0;
    const start =
      low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff ? i - 2 : i - 1;
    const [bytes] = unitCost(text, start);
    if (used + bytes > budgetBytes) break;
    used += bytes;
    i = start;
  }
  return text.slice(i);
}

/** A stream cut to `budgetBytes` of JSON: first half from its head, second from its tail. */
function cutStream(stream: CapturedStream, budgetBytes: number): CapturedStream {
  // Without a tail the head is the whole text: both halves come from it.
  const whole = stream.droppedBytes === 0;
  const headSource = stream.head + (whole ? stream.tail : "");
  const tailSource = whole ? headSource : stream.tail;
  const headBudget = Math.floor(budgetBytes / 2);
  const head = headWithin(headSource, headBudget);
  const tail = tailWithin(
    tailSource.slice(whole ? head.length : 0),
    budgetBytes - jsonStringBytes(head),
  );
  const keptBytes = Buffer.byteLength(head, "utf8") + Buffer.byteLength(tail, "utf8");
  return {
    head,
    tail,
    totalBytes: stream.totalBytes,
    droppedBytes: Math.max(1, stream.totalBytes - keptBytes),
  };
}

/**
 * Shares `available` bytes among items of these costs: each item that needs no more than an
 * equal share of what is left keeps all it needs, the rest split the remainder equally.
 */
export function shareBudget(costs: readonly number[], available: number): number[] {
  const shares = costs.map(() => 0);
  const order = costs.map((cost, index) => ({ cost, index })).sort((a, b) => a.cost - b.cost);
  let left = Math.max(0, available);
  for (let k = 0; k < order.length; k += 1) {
    const item = order[k];
    const fair = Math.floor(left / (order.length - k));
    shares[item.index] = Math.min(item.cost, fair);
    left -= shares[item.index];
  }
  return shares;
}

/**
 * The record's stdout, stderr and output files, cut so that the record's JSON is at most
 * `budgetBytes`. Nothing is cut when it all fits.
 */
export function fitResultOutput(input: FitInput): ResultOutput {
  const files = input.outputs.map((file) => ({ ...file }));
  const streams = [input.stdout, input.stderr];
  const streamCosts = streams.map((s) => jsonStringBytes(s.head) + jsonStringBytes(s.tail) + 64);
  const fileCosts = files.map((f) => f.contentBase64.length);
  // The files' other fields and the record's other fields, measured as they are.
  const emptyFilesBytes = Buffer.byteLength(
    JSON.stringify(files.map((f) => ({ ...f, contentBase64: "" }))),
    "utf8",
  );
  const fixedBytes = input.otherFieldsBytes + emptyFilesBytes + 64;
  const total = fixedBytes + [...streamCosts, ...fileCosts].reduce((a, b) => a + b, 0);
  if (total <= input.budgetBytes) {
    return {
      stdout: joinStream(input.stdout),
      stderr: joinStream(input.stderr),
      outputs: files,
      cutNote: "",
    };
  }
  const shares = shareBudget(
    [...streamCosts, ...fileCosts],
    input.budgetBytes - fixedBytes - NOTE_ROOM_BYTES,
  );
  const cut: string[] = [];
  const [stdout, stderr] = streams.map((stream, i) => {
    const share = shares[i];
    if (share >= streamCosts[i]) return joinStream(stream);
    // The marker line takes some of the share.
    const kept = cutStream(stream, Math.max(0, share - 64));
    cut.push(
      `${i === 0 ? "stdout" : "stderr"} ${formatBytes(stream.totalBytes)} (${formatBytes(stream.totalBytes - kept.droppedBytes)} kept)`,
    );
    return joinStream(kept);
  }) as [string, string];
  files.forEach((file, j) => {
    const share = shares[streams.length + j];
    if (share >= fileCosts[j]) return;
    // Whole base64 quanta: 4 characters are 3 bytes.
    const keptChars = Math.floor(share / 4) * 4;
    file.contentBase64 = file.contentBase64.slice(0, keptChars);
    file.truncated = true;
    cut.push(
      `output ${file.path} ${formatBytes(file.sizeBytes)} (${formatBytes((keptChars / 4) * 3)} kept)`,
    );
  });
  return {
    stdout,
    stderr,
    outputs: files,
    cutNote: `output cut to fit the result: ${cut.join(", ")}; full output in ${input.fullOutputWhere}`,
  };
}
