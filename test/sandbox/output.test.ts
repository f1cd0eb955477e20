import { describe, expect, it } from "vitest";
import { HeadTailCapture, LineSplitter, capturedText } from "../../src/sandbox/output.ts";

describe("HeadTailCapture", () => {
  it("keeps everything when it fits", () => {
    const capture = new HeadTailCapture(10);
    capture.push(Buffer.from("abc"));
    capture.push(Buffer.from("defg"));
    expect(capture.result()).toEqual({ head: "abcdefg", tail: "", totalBytes: 7, droppedBytes: 0 });
  });

  it("keeps the first and last halves and counts the middle, across chunk boundaries", () => {
    const capture = new HeadTailCapture(6);
    for (const chunk of ["ab", "cdef", "ghij", "k", "lm"]) capture.push(Buffer.from(chunk));
    expect(capture.result()).toEqual({ head: "abc", tail: "klm", totalBytes: 13, droppedBytes: 7 });
    expect(capturedText(capture.result())).toBe("abc\n[... 7 bytes dropped ...]\nklm");
  });

  it("decodes invalid UTF-8 to replacement characters instead of throwing", () => {
    const capture = new HeadTailCapture(100);
    capture.push(Buffer.from([0x61, 0xff, 0xc3, 0x28]));
    expect(capture.result().head).toBe("a\uFFFD\uFFFD(");
  });
});

describe("LineSplitter", () => {
  it("splits lines across chunks and emits a last line without newline at the end", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line.toString()));
    splitter.push(Buffer.from("one\ntw"));
    splitter.push(Buffer.from("o\nthr"));
    splitter.end();
    expect(lines).toEqual(["one", "two", "thr"]);
  });

  it("cuts a line longer than the maximum into pieces", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line.toString()), 4);
    splitter.push(Buffer.from("abcdefghij\nxy\n"));
    expect(lines).toEqual(["abcd", "efgh", "ij", "xy"]);
  });
});
