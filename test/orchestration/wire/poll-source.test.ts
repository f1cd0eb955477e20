// The poll stream as routers, workers and waiting clients read it: events split anywhere by
// the network, and a stream that the server's restart cut is opened again.
import { PassThrough } from "node:stream";
import type { Message } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { PollSource } from "../../../src/orchestration/wire/poll-source.ts";
import { readEventData } from "../../../src/orchestration/wire/sse.ts";
import { createTransport } from "../../../src/orchestration/wire/transport.ts";
import { request, requestSender } from "../../../src/orchestration/wire/wire.ts";
import { startServer } from "../../../src/server/server.ts";
import { freePort } from "../../helpers/cluster.ts";
import { eventually, tempDir } from "../../helpers/processes.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("server-sent event data", () => {
  it("is taken whole from events split across chunks, with CRLF lines and comments skipped", () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    readEventData(stream, (data) => seen.push(data));
    for (const chunk of [
      ": keep-alive\n\n",
      'data: {"a"',
      ":1}\n",
      "\ndata: x\r\n",
      "data:y\r\n\r\n",
    ])
      stream.write(chunk);
    stream.end();
    expect(seen).toEqual(['{"a":1}', "x\ny"]);
  });
});

describe.each([
  ["node:http", false],
  ["HTTP by hand over node:net (lean)", true],
])("a process's poll stream through %s", (_name, lean) => {
  it("delivers the group's work, and again after the server restarts", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    let server = await startServer({ host: "127.0.0.1", port, dataDir });
    cleanups.push(() => server.close());
    const transport = createTransport({ url }, undefined, undefined, { lean });
    cleanups.push(() => transport.close());
    const source = new PollSource(transport, "g", "p1");
    const received: Message[] = [];
    source.onReceive((message) => received.push(message));
    await source.init();
    await source.opened();
    cleanups.push(() => source.stop());

    const offer = (id: string) =>
      send(
        request("promise.create", {
          id,
          timeoutAt: Date.now() + 60_000,
          param: { data: "", headers: {} },
          tags: { "resonate:target": source.match("g") },
        }),
      );
    const executeOf = (id: string) =>
      eventually(
        () => received.find((m) => m.kind === "execute" && m.data.task.id.includes(id)),
        `the execute message of ${id}`,
      );
    await offer("work-1");
    await executeOf("work-1");

    await server.close();
    server = await startServer({ host: "127.0.0.1", port, dataDir });
    // A kept-alive socket to the old server may hang up once: creating the same id again is
    // the same promise, so asking until it is answered is safe.
    await eventually(
      () =>
        offer("work-2").then(
          () => true,
          () => undefined,
        ),
      "work-2 offered",
    );
    await executeOf("work-2");
  });
});
