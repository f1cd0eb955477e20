// The slot gate in front of the SDK: offers beyond the free slots wait unclaimed; a slot frees
// when its task is fulfilled, released, or lost to another worker.
import type { Message, Network, Request, Response } from "@resonatehq/sdk";
import { describe, expect, it, vi } from "vitest";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { SlotGate, type TaskResources } from "../../src/orchestration/slot-gate.ts";
import type { Send } from "../../src/orchestration/wire/wire.ts";
import { WorkerResources } from "../../src/orchestration/worker-resources.ts";
import { GpuSets } from "../../src/sandbox/gpus.ts";

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

  it("passes on a job only once its GPU set is free, lets a smaller one by, and drops one it can never serve", async () => {
    const { network, offer } = fakeNetwork(() => 200);
    const gpus = new GpuSets(["0", "1", "2", "3"]);
    const asks: Record<string, JobSpec["gpus"]> = { a: 2, b: 2, c: 2, d: 0, huge: 5 };
    const resources = new WorkerResources({ send: network.send, gpus });
    const claims: TaskResources = {
      lookUpFirst: resources.lookUpFirst,
      claim: (id) =>
        Promise.resolve(resources.claimFor(id, { gpus: asks[id] } as unknown as JobSpec)),
      claimOfPromise: () => {
        throw new Error("a worker with GPUs looks its offers up first");
      },
    };
    expect(resources.lookUpFirst).toBe(true);
    const gate = new SlotGate(network, { slots: 4, resources: claims });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "unblock"));
    for (const id of ["a", "b", "c", "d", "huge"]) offer(id);
    await vi.waitFor(() => expect(seen).toEqual(["a", "b", "d"]));
    expect([resources.gpusOf("a"), resources.gpusOf("b")]).toEqual([
      ["0", "1"],
      ["2", "3"],
    ]);
    expect(resources.gpusOf("d")).toEqual([]);
    // c waits for GPUs, not a slot; huge asks for more than this worker has and is not kept.
    expect(gate.waiting).toBe(1);
    for (const id of ["a", "b", "d"]) {
      await gate.send({
        kind: "task.acquire",
        head,
        data: { id, version: 0, pid: "p", ttl: 1000 },
      });
    }
    await gate.send({ kind: "task.release", head, data: { id: "b", version: 1 } });
    expect(seen).toEqual(["a", "b", "d", "c"]);
    expect(resources.gpusOf("c")).toEqual(["2", "3"]);
    expect(resources.gpusOf("b")).toEqual([]);
  });

  it("hands back, without a look-up, a job asking for an interpreter it does not declare, and drops its later offers", async () => {
    const { network, offer } = fakeNetwork(() => 200);
    const sent: string[] = [];
    const recording: Network = {
      ...network,
      send: ((req: Request) => {
        sent.push(`${req.kind} ${"id" in req.data ? String(req.data.id) : ""}`);
        return network.send(req);
      }) as Network["send"],
    };
    const resources = new WorkerResources({ send: network.send, interpreters: ["torch"] });
    expect(resources.lookUpFirst).toBe(false);
    const wants: Record<string, string> = { t: "torch", j: "jax" };
    const claims: TaskResources = {
      lookUpFirst: false,
      claim: () => Promise.reject(new Error("no look-up on a worker without GPUs")),
      claimOfPromise: (id) =>
        resources.claimFor(id, { interpreter: wants[id] } as unknown as JobSpec),
    };
    const gate = new SlotGate(recording, { slots: 1, resources: claims });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "unblock"));
    offer("j");
    offer("t");
    expect(seen).toEqual(["j"]);
    const refused = await gate.send({
      kind: "task.acquire",
      head,
      data: { id: "j", version: 0, pid: "p", ttl: 1000 },
    });
    expect(refused.head.status).toBe(409);
    expect(sent).toEqual(["task.acquire j", "task.release j"]);
    // Its slot went to the next offer; the refused task's next offer is not taken here.
    expect(seen).toEqual(["j", "t"]);
    const taken = await gate.send({
      kind: "task.acquire",
      head,
      data: { id: "t", version: 0, pid: "p", ttl: 1000 },
    });
    expect(taken.head.status).toBe(200);
    offer("j");
    expect(gate.waiting).toBe(0);
    expect(seen).toEqual(["j", "t"]);
  });

  it("treats a job that asks nothing as one GPU on a worker with GPUs, none on one without", () => {
    const send = (() => Promise.reject(new Error("unused"))) as unknown as Send;
    const withGpus = new WorkerResources({ send, gpus: new GpuSets(["0"]) });
    const plain = {} as JobSpec;
    expect(withGpus.claimFor("x", plain).tryTake()).toBe(true);
    expect(withGpus.gpusOf("x")).toEqual(["0"]);
    expect(withGpus.claimFor("y", plain).tryTake()).toBe(false);
    const without = new WorkerResources({ send });
    expect(without.claimFor("z", plain).servable).toBe(true);
    expect(without.claimFor("z", { gpus: 1 } as JobSpec).servable).toBe(false);
    expect(without.claimFor("z", { gpus: "shared" } as JobSpec).servable).toBe(false);
  });

  it("keeps freed GPUs for an older 4-GPU offer while 1-GPU offers keep coming, in order of arrival however look-ups answer", async () => {
    const { network, offer } = fakeNetwork(() => 200);
    const resources = new WorkerResources({
      send: network.send,
      gpus: new GpuSets(["0", "1", "2", "3"]),
    });
    // Look-ups answer when told: the 4-GPU job's answers last, after younger ones'.
    const answers = new Map<string, () => void>();
    const claims: TaskResources = {
      lookUpFirst: true,
      claim: (id) =>
        new Promise((resolve) => {
          const spec = { gpus: id === "big" ? 4 : 1 } as unknown as JobSpec;
          answers.set(id, () => resolve(resources.claimFor(id, spec)));
        }),
      claimOfPromise: () => {
        throw new Error("a worker with GPUs looks its offers up first");
      },
      newPass: () => resources.newPass(),
    };
    const gate = new SlotGate(network, { slots: 8, resources: claims });
    const seen: string[] = [];
    gate.recv((m) => seen.push(m.kind === "execute" ? m.data.task.id : "unblock"));
    const answer = async (id: string): Promise<void> => {
      answers.get(id)?.();
      await new Promise((resolve) => setImmediate(resolve));
    };
    const finish = (id: string) =>
      gate.send({ kind: "task.release", head, data: { id, version: 1 } });
    for (const id of ["a1", "a2", "a3", "a4"]) {
      offer(id);
      await answer(id);
    }
    await vi.waitFor(() => expect(seen).toEqual(["a1", "a2", "a3", "a4"]));
    for (const id of seen) {
      await gate.send({ kind: "task.acquire", head, data: { id, version: 0, pid: "p", ttl: 1 } });
    }
    offer("big");
    offer("s1");
    offer("s2");
    await answer("s1");
    await answer("s2");
    await answer("big");
    await vi.waitFor(() => expect(gate.waiting).toBe(3));
    // Each GPU that frees is kept for the 4-GPU job, which came before the 1-GPU ones.
    for (const [at, id] of ["a1", "a2", "a3"].entries()) {
      await finish(id);
      offer(`s${at + 3}`);
      await answer(`s${at + 3}`);
    }
    await vi.waitFor(() => expect(gate.waiting).toBe(6));
    expect(seen).toEqual(["a1", "a2", "a3", "a4"]);
    await finish("a4");
    expect(seen).toEqual(["a1", "a2", "a3", "a4", "big"]);
    expect(resources.gpusOf("big")).toEqual(["0", "1", "2", "3"]);
    await gate.send({
      kind: "task.acquire",
      head,
      data: { id: "big", version: 0, pid: "p", ttl: 1 },
    });
    await finish("big");
    expect(seen.slice(5)).toEqual(["s1", "s2", "s3", "s4"]);
  });
});
