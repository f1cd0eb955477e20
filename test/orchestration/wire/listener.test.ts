// A client's wait for a promise: the message that settles it may come before the answer to
// the request that registered the wait, including the request a wait makes again after its
// recheck interval. Such a message must still end the wait, not the next recheck.
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import type { PromiseRecord, Request, Response } from "@resonatehq/sdk";
import { describe, expect, it, vi } from "vitest";
import { openListener } from "../../../src/orchestration/wire/listener.ts";
import type { Transport } from "../../../src/orchestration/wire/transport.ts";

function record(id: string, state: PromiseRecord["state"]): PromiseRecord {
  const none = { headers: {}, data: "" };
  return { id, state, param: none, value: none, tags: {}, timeoutAt: 0, createdAt: 0 };
}

/** A server's side of the wire, driven by the test: it answers the first two registers when told. */
function scriptedServer() {
  const stream = new PassThrough();
  const registers: { answer: (state: PromiseRecord["state"]) => void }[] = [];
  let registered: () => void = () => {};
  const transport: Transport = {
    send<K extends Request["kind"]>(req: Extract<Request, { kind: K }>) {
      const plain: Request = req;
      if (plain.kind !== "promise.register_listener") throw new Error(`unexpected ${plain.kind}`);
      const id = plain.data.awaited;
      return new Promise<Extract<Response, { kind: K }>>((resolve) => {
        const answer = (state: PromiseRecord["state"]): void =>
          resolve({
            kind: "promise.register_listener",
            head: { corrId: "", status: 200, version: "" },
            data: { promise: record(id, state) },
          } as unknown as Extract<Response, { kind: K }>);
        registers.push({ answer });
        // A third request finds the promise settled: the wait ends, having missed its message.
        if (registers.length > 2) answer("resolved");
        registered();
      });
    },
    stream: () => Promise.resolve(stream as unknown as IncomingMessage),
    health: () => Promise.resolve(),
    close: () => undefined,
  };
  return {
    transport,
    registers,
    nextRegister: () => new Promise<void>((resolve) => (registered = resolve)),
    /** Sends the message and resolves once the client has read it. */
    unblock(id: string): Promise<void> {
      const message = { kind: "unblock", head: {}, data: { promise: record(id, "resolved") } };
      const read = new Promise<void>((resolve) => stream.once("data", () => setImmediate(resolve)));
      stream.write(`data: ${JSON.stringify(message)}\n\n`);
      return read;
    },
  };
}

describe("a client's wait for a promise", () => {
  it("takes the message that comes while it asks again after a recheck", async () => {
    const server = scriptedServer();
    const listener = await openListener(server.transport, "clients", "c1", { recheckMs: 20 });
    let first = server.nextRegister();
    const waiting = listener.settled("p");
    await first;
    server.registers[0]?.answer("pending");
    // The recheck asks again; the promise settles meanwhile, and its message overtakes the
    // answer to that second request.
    first = server.nextRegister();
    await first;
    await server.unblock("p");
    server.registers[1]?.answer("pending");
    const settled = await waiting;
    expect(settled.state).toBe("resolved");
    // Ended by the message, not by asking a third time after the next recheck.
    expect(server.registers).toHaveLength(2);
    listener.close();
  });

  it("holds no timer once abandoned while its request is answered", async () => {
    vi.useFakeTimers();
    try {
      const server = scriptedServer();
      const listener = await openListener(server.transport, "clients", "c1", { recheckMs: 10_000 });
      const abandon = new AbortController();
      const asked = server.nextRegister();
      void listener.settled("p", abandon.signal);
      await asked;
      // The race this wait was part of is won elsewhere (the execute promise's message came
      // first); only then does the answer to its own request say "pending".
      abandon.abort();
      server.registers[0]?.answer("pending");
      // Let the answer reach the wait (a few promise hops), with no timer run meanwhile.
      for (let hop = 0; hop < 5; hop += 1) await Promise.resolve();
      // A recheck timer left here kept a finished `modulate submit` alive for 10 s.
      expect(vi.getTimerCount()).toBe(0);
      listener.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
