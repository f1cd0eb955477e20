// Server-sent events as the Resonate poll stream sends them: events end with a blank line and
// carry their text on `data:` lines. Comments (`: keep-alive`) and other fields are skipped.
import type { Readable } from "node:stream";

/** Calls `onData` with the data of each event that arrives on `stream`, in order. */
export function readEventData(stream: Readable, onData: (data: string) => void): void {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    for (;;) {
      const end = /\r?\n\r?\n/.exec(buffer);
      if (!end) return;
      const event = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
      if (data.length > 0) onData(data.join("\n"));
    }
  });
}
