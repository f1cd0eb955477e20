// A job's output, kept within bounds however much it writes: the first and last bytes of each
// stream for the result, and timestamped lines for the log. Bytes are kept as bytes until the
// end, so invalid UTF-8 costs a replacement character, never a crash.
import type { CapturedOutput } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Keeps the first half of `maxBytes` and the last half; counts what fell between. */
export class HeadTailCapture {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #totalBytes = 0;

  constructor(maxBytes: number) {
    this.#headLimit = Math.ceil(maxBytes / 2);
    this.#tailLimit = Math.floor(maxBytes / 2);
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  push(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    let rest = chunk;
    const headRoom = this.#headLimit - this.#headBytes;
    if (headRoom > 0) {
      const taken = rest.subarray(0, headRoom);
      this.#head.push(taken);
      this.#headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0 || this.#tailLimit === 0) return;
    // Keep a slice, not the caller's whole chunk: a 64 KiB read must not pin 64 KiB per byte kept.
    const kept =
      rest.length > this.#tailLimit
        ? Buffer.from(rest.subarray(rest.length - this.#tailLimit))
        : rest;
    this.#tail.push(kept);
    this.#tailBytes += kept.length;
    while (this.#tailBytes > this.#tailLimit) {
      const first = this.#tail[0];
      const excess = this.#tailBytes - this.#tailLimit;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
      }
    }
  }

  result(): CapturedOutput {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail);
    const droppedBytes = this.#totalBytes - head.length - tail.length;
    if (droppedBytes === 0) {
      return {
        head: decoder.decode(Buffer.concat([head, tail])),
        tail: "",
        totalBytes: this.#totalBytes,
        droppedBytes,
      };
    }
    return {
      head: decoder.decode(head),
      tail: decoder.decode(tail),
      totalBytes: this.#totalBytes,
      droppedBytes,
    };
  }
}

/** Head, a line saying how much was dropped, then tail: how a person reads captured output. */
export function capturedText(output: CapturedOutput): string {
  if (output.droppedBytes === 0) return output.head;
  return `${output.head}\n[... ${output.droppedBytes} bytes dropped ...]\n${output.tail}`;
}

/** Splits a byte stream into lines; a line longer than `maxLineBytes` is cut into pieces. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onLine: (line: Buffer) => void;
  #partial: Buffer[] = [];
  #partialBytes = 0;

  constructor(onLine: (line: Buffer) => void, maxLineBytes = 64 * 1024) {
    this.#onLine = onLine;
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    for (;;) {
      const newline = rest.indexOf(0x0a);
      const room = this.#maxLineBytes - this.#partialBytes;
      if (newline !== -1 && newline <= room) {
        this.#emit(rest.subarray(0, newline));
        rest = rest.subarray(newline + 1);
        continue;
      }
      if (rest.length >= room) {
        this.#emit(rest.subarray(0, room));
        rest = rest.subarray(room);
        continue;
      }
      if (rest.length > 0) {
        this.#partial.push(Buffer.from(rest));
        this.#partialBytes += rest.length;
      }
      return;
    }
  }

  /** Emits a last line that had no newline. */
  end(): void {
    if (this.#partialBytes > 0) this.#emit(Buffer.alloc(0));
  }

  #emit(end: Buffer): void {
    const line = this.#partialBytes > 0 ? Buffer.concat([...this.#partial, end]) : end;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#onLine(line);
  }
}
