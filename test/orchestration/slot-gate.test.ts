// The slot gate in front of the SDK: offers beyond the free slots wait unclaimed; a slot frees
// when its task is fulfilled, released, or lost to another worker.
import type { Message, Network, Request, Response } from "@resonatehq/sdk";
import { describe, expect, it } from "vitest";
import { SlotGate } from "../../src/orchestration/slot-gate.ts";

/** A network that records what reaches the SDK and answers acquires as told. */
function fakeNetwork(acquireStatus: (id: string) => number) {
  let deliver: (m: Message) => void = () => {};
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
      const status = req.kind === "task.acquire" ? acquireStatus(req.data.id) : 200;
      const data =
        req.kind === "task.acquire" && status === 200
          ? {
              task: {
                id: req.data.id,
                version: req.data.version + 1,
                state: "acquired",
                resumes: [],
              },
              promise: {},
              preload: [],
            }
          : "x";
      return Promise.resolve({
        kind: req.kind,
        head: { corrId: req.head.corrId, status, version: "v" },
        data,
      } as unknown as Response);
    }) as Network["send"],
  };
  return {
    network,
    offer: (id: string) =>
      deliver({ kind: "execute", head: {}, data: { task: { id, version: 0 } } }),
  };
}

const head = { corrId: "c", version: "v" };

describe("the slot gate", () => {
  it("passes on only as many offers as there are slots, then the next as one frees", async () => {
    const { network, offer } = fakeNetwork(() => 200);
    const gate = new SlotGate(network, { slots: 1 });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "unblock"));
    offer("a");
    offer("b");
    expect(seen).toEqual(["a"]);
    expect(gate.waiting).toBe(1);
    await gate.send({
      kind: "task.acquire",
      head,
      data: { id: "a", version: 0, pid: "p", ttl: 1000 },
    });
    await gate.send({
      kind: "task.fulfill",
      head,
      data: {
        id: "a",
        version: 1,
        action: { kind: "promise.settle", head, data: { id: "a", state: "resolved", value: {} } },
      },
    });
    expect(seen).toEqual(["a", "b"]);
  });

  it("frees the slot when another worker won the task", async () => {
    const { network, offer } = fakeNetwork((id) => (id === "taken" ? 409 : 200));
    const gate = new SlotGate(network, { slots: 1 });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "unblock"));
    offer("taken");
    offer("next");
    await gate.send({
      kind: "task.acquire",
      head,
      data: { id: "taken", version: 0, pid: "p", ttl: 1000 },
    });
    expect(seen).toEqual(["taken", "next"]);
    expect(gate.busy).toBe(1);
  });

  it("keeps one waiting offer per task, the newest", () => {
    const { network, offer } = fakeNetwork(() => 200);
    const gate = new SlotGate(network, { slots: 1 });
    gate.recv(() => {});
    offer("a");
    offer("b");
    offer("b");
    expect(gate.waiting).toBe(1);
  });
});
