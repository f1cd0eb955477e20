// The slot gate's prefetch (issue 17): while every slot runs a job, the next offer is acquired
// ahead, so a freed slot starts it without an acquire's round trip; a slot frees as its
// answer goes out; a job held ahead too long, or held by a stopping worker, goes back.
import type { Message, Network, Request, Response } from "@resonatehq/sdk";
import { describe, expect, it, vi } from "vitest";
import { SlotGate } from "../../src/orchestration/slot-gate.ts";

const head = { corrId: "c", version: "v" };

/**
 * A network that records every request as "kind id [pid]", answers acquires as told, and
 * holds each fulfil's answer until `land` is called for its task.
 */
function recordingNetwork(acquireStatus: (id: string) => number = () => 200) {
  let deliver: (m: Message) => void = () => {};
  const sent: string[] = [];
  const landings = new Map<string, () => void>();
  const answer = (req: Request, status: number, data: unknown): Response =>
    ({
      kind: req.kind,
      head: { corrId: req.head.corrId, status, version: "v" },
      data,
    }) as unknown as Response;
  const network: Network = {
    unicast: "poll://uni@g/p",
    anycast: "poll://any@g/p",
    match: (t) => `poll://any@${t}`,
    init: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    recv: (cb) => {
      deliver = cb;
    },
    send: ((req: Request) => {
      const id = "id" in req.data ? String(req.data.id) : "";
      sent.push(
        req.kind === "task.acquire" ? `${req.kind} ${id} ${req.data.pid}` : `${req.kind} ${id}`,
      );
      if (req.kind === "task.fulfill") {
        return new Promise<Response>((resolve) =>
          landings.set(id, () => resolve(answer(req, 200, {}))),
        );
      }
      if (req.kind !== "task.acquire") return Promise.resolve(answer(req, 200, {}));
      const status = acquireStatus(id);
      const task = { id, version: req.data.version + 1, state: "acquired", resumes: [] };
      return Promise.resolve(
        answer(req, status, status === 200 ? { task, promise: {}, preload: [] } : "taken"),
      );
    }) as Network["send"],
  };
  return {
    network,
    sent,
    offer: (id: string) =>
      deliver({ kind: "execute", head: {}, data: { task: { id, version: 0 } } }),
    land: (id: string) => landings.get(id)?.(),
  };
}

/** What the SDK does with an offer it is passed: acquires it with its own pid. */
function sdkAcquire(gate: SlotGate, id: string): Promise<Response> {
  return gate.send({ kind: "task.acquire", head, data: { id, version: 0, pid: "sdk", ttl: 8000 } });
}

function sdkFulfill(gate: SlotGate, id: string): Promise<Response> {
  return gate.send({
    kind: "task.fulfill",
    head,
    data: {
      id,
      version: 1,
      action: { kind: "promise.settle", head, data: { id, state: "resolved", value: {} } },
    },
  });
}

const handOn = { pid: "w", ttl: 8000 };

describe("the slot gate's prefetch", () => {
  it("acquires the next offer while its one slot runs, and passes it on as the answer goes out", async () => {
    const { network, sent, offer, land } = recordingNetwork();
    const gate = new SlotGate(network, { slots: 1, handOn, prefetch: 1 });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "other"));
    offer("a");
    offer("b");
    offer("c");
    await sdkAcquire(gate, "a");
    // b is acquired ahead (as soon as a was passed on) with the worker's pid; c waits
    // unclaimed (one ahead at most).
    await vi.waitFor(() => expect(gate.held).toBe(1));
    expect(sent.toSorted()).toEqual(["task.acquire a sdk", "task.acquire b w"]);
    expect(seen).toEqual(["a"]);
    expect(gate.waiting).toBe(1);
    const answered = sdkFulfill(gate, "a");
    // a's answer has not landed, and b runs already.
    expect(seen).toEqual(["a", "b"]);
    const b = await sdkAcquire(gate, "b");
    expect(b.head.status).toBe(200);
    // The SDK's acquire of b was answered from the acquire ahead: no second one went out.
    expect(sent.filter((line) => line.startsWith("task.acquire b"))).toEqual(["task.acquire b w"]);
    // With b running, c is fetched ahead in turn.
    await vi.waitFor(() => expect(sent).toContain("task.acquire c w"));
    land("a");
    await answered;
    expect(gate.busy).toBe(1);
  });

  it("hands on a job held ahead that no slot took in time, fetches no other ahead behind the same job, and never that one again", async () => {
    const { network, sent, offer } = recordingNetwork();
    const gate = new SlotGate(network, { slots: 1, handOn, prefetch: 1, prefetchHoldMs: 20 });
    gate.recv(() => {});
    offer("long");
    offer("next");
    offer("later");
    await sdkAcquire(gate, "long");
    await vi.waitFor(() => expect(sent).toContain("task.release next"));
    expect(gate.held).toBe(0);
    // The slot runs a long job: the offers behind it are not taken and handed on in turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).not.toContain("task.acquire later w");
    // The server offers it to the group again; offered here, it waits as any offer does.
    offer("next");
    expect(gate.waiting).toBe(2);
    expect(sent.filter((line) => line === "task.acquire next w")).toHaveLength(1);
  });

  it("gives back the jobs it holds ahead when the worker stops", async () => {
    const { network, sent, offer } = recordingNetwork();
    const gate = new SlotGate(network, { slots: 1, handOn, prefetch: 1 });
    gate.recv(() => {});
    offer("a");
    offer("b");
    await sdkAcquire(gate, "a");
    await vi.waitFor(() => expect(gate.held).toBe(1));
    await gate.releaseAll();
    expect(sent).toContain("task.release b");
    expect(gate.held).toBe(0);
  });

  it("moves on to the next offer when a peer acquired the one it fetched ahead", async () => {
    const { network, sent, offer } = recordingNetwork((id) => (id === "lost" ? 409 : 200));
    const gate = new SlotGate(network, { slots: 1, handOn, prefetch: 1 });
    gate.recv(() => {});
    offer("a");
    offer("lost");
    offer("c");
    await sdkAcquire(gate, "a");
    await vi.waitFor(() => expect(gate.held).toBe(1));
    expect(sent.toSorted()).toEqual([
      "task.acquire a sdk",
      "task.acquire c w",
      "task.acquire lost w",
    ]);
    expect(gate.waiting).toBe(0);
  });

  it("fetches nothing ahead while a slot is free, nor without prefetch", async () => {
    const { network, sent, offer } = recordingNetwork();
    const off = new SlotGate(network, { slots: 1, handOn });
    off.recv(() => {});
    offer("a");
    offer("b");
    await sdkAcquire(off, "a");
    expect(off.held).toBe(0);
    expect(sent).toEqual(["task.acquire a sdk"]);
  });
});
