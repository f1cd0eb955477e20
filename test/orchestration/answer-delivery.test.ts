// A worker's answer on its way to a real server (issue 12, items 4, 6 and 7): kept and sent
// again through a restart, sent as a small failed record when the server refuses it for good,
// and fenced by the lease: delivered after a lapse only by taking the task again first.
import type { Network } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  AnswerDelivery,
  type AnswerDeliveryEvents,
} from "../../src/orchestration/answer-delivery.ts";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
import { refusedAnswer } from "../../src/orchestration/refused-result.ts";
import { SdkNetwork } from "../../src/orchestration/wire/sdk-network.ts";
import {
  decodeValue,
  encodeValue,
  request,
  requestSender,
  type Send,
} from "../../src/orchestration/wire/wire.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freePort } from "../helpers/cluster.ts";
import { eventually, stopAll, tempDir } from "../helpers/processes.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopAll();
});

async function serverAt(
  port: number,
  dataDir: string,
  maxBodyBytes?: number,
): Promise<RunningServer> {
  const server = await startServer({
    host: "127.0.0.1",
    port,
    dataDir,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  });
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await server.close();
  });
  const close = server.close.bind(server);
  return Object.assign(server, {
    close: async () => {
      closed = true;
      await close();
    },
  });
}

/** A task held by worker `w` with lease `ttlMs`, as the worker holds a job's. */
async function acquiredTask(send: Send, id: string, ttlMs: number): Promise<void> {
  const res = await send(
    request("task.create", {
      pid: "w",
      ttl: ttlMs,
      action: request("promise.create", {
        id,
        timeoutAt: Date.now() + 10 * 60_000,
        param: encodeValue({}),
        tags: { "resonate:target": "poll://any@g" },
      }),
    }),
  );
  expect(res.head.status).toBe(200);
}

function result(stdout: string): JobResult {
  return {
    id: "job-1",
    group: "g",
    state: "succeeded",
    reason: "",
    exitCode: 0,
    stdout,
    stderr: "",
    durationMs: 5,
    worker: { host: "h", pid: "w", group: "g" },
    attempt: 1,
    submittedAt: 0,
    startedAt: 1,
    finishedAt: 2,
    outputs: [{ path: "out.txt", bytes: 3 }] as unknown as JobResult["outputs"],
  };
}

function fulfil(id: string, version: number, value: JobResult) {
  return request("task.fulfill", {
    id,
    version,
    action: request("promise.settle", { id, state: "resolved", value: encodeValue(value) }),
  });
}

/** The layer as the worker stacks it, over the real network; what it reported is kept. */
function delivery(url: string, leaseMs: number, inner?: (network: Network) => Network) {
  const network = new SdkNetwork({ url }, "g", "w");
  cleanups.push(() => network.stop());
  const reported: string[] = [];
  const events: AnswerDeliveryEvents = {
    onDelivered: (_id, failed) => reported.push(`delivered after ${failed}`),
    onRefused: (_id, reason) => reported.push(`refused: ${reason}`),
    onReacquired: (_id, version) => reported.push(`reacquired at ${version}`),
    onLost: (_id, reason) => reported.push(`lost: ${reason}`),
  };
  const layer = new AnswerDelivery(inner ? inner(network) : network, {
    pid: "w",
    leaseMs,
    replaceRefused: refusedAnswer,
    events,
  });
  cleanups.push(() => layer.settle(0));
  return { layer, reported };
}

async function settledValue(send: Send, id: string): Promise<JobResult | undefined> {
  const res = await send(request("promise.get", { id }));
  if (res.head.status !== 200 || typeof res.data === "string") return undefined;
  return res.data.promise.state === "pending"
    ? undefined
    : (decodeValue(res.data.promise.value) as JobResult);
}

describe("a worker's answer on its way to the server", () => {
  it("is sent again until the server is back, and lands at its version", async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    const first = await serverAt(port, dataDir);
    await acquiredTask(send, "t-restart", 30_000);
    await first.close();

    let failedSends = 0;
    const { layer, reported } = delivery(url, 30_000, (network) => ({
      ...network,
      recv: (cb) => network.recv(cb),
      init: () => network.init(),
      stop: () => network.stop(),
      match: (t) => network.match(t),
      unicast: network.unicast,
      anycast: network.anycast,
      send: (async (req: Parameters<Network["send"]>[0]) => {
        try {
          return await network.send(req);
        } catch (error) {
          failedSends++;
          throw error;
        }
      }) as Network["send"],
    }));
    const answered = layer.send(fulfil("t-restart", 1, result("hello")));
    // The server comes back only once the answer has failed to reach it.
    await eventually(() => failedSends >= 2, "the answer to fail while the server is away");
    await serverAt(port, dataDir);

    const res = await answered;
    expect(res.head.status).toBe(200);
    expect((await settledValue(send, "t-restart"))?.stdout).toBe("hello");
    expect(reported).toEqual([`delivered after ${failedSends}`]);
  });

  it("is replaced by a small failed record when the server refuses it as too large", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    await serverAt(port, tempDir(), 128 * 1024);
    await acquiredTask(send, "t-large", 30_000);
    const { layer, reported } = delivery(url, 30_000);

    const res = await layer.send(fulfil("t-large", 1, result("x".repeat(400_000))));
    expect(res.head.status).toBe(200);
    const settled = await settledValue(send, "t-large");
    expect(settled?.state).toBe("failed");
    expect(settled?.reason).toMatch(/^the server refused the result: request body is larger/);
    expect(settled?.stdout.length).toBeLessThanOrEqual(2_000);
    expect(settled?.outputs).toBeUndefined();
    expect(settled?.attempt).toBe(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/^refused: request body is larger/);
  });

  it("takes the task again when its lease lapsed and nobody took it, then lands", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    await serverAt(port, tempDir());
    await acquiredTask(send, "t-lapsed", 300);
    await eventually(async () => {
      const res = await send(request("task.get", { id: "t-lapsed" }));
      return (
        res.head.status === 200 && typeof res.data !== "string" && res.data.task.state === "pending"
      );
    }, "the lease to lapse");
    const { layer, reported } = delivery(url, 30_000);

    const res = await layer.send(fulfil("t-lapsed", 1, result("late but whole")));
    expect(res.head.status).toBe(200);
    expect((await settledValue(send, "t-lapsed"))?.stdout).toBe("late but whole");
    expect(reported).toEqual(["reacquired at 2"]);
  });

  it("gives the answer up when a peer took the task after its lease lapsed", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    await serverAt(port, tempDir());
    await acquiredTask(send, "t-taken", 300);
    await eventually(async () => {
      const res = await send(
        request("task.acquire", { id: "t-taken", version: 1, pid: "peer", ttl: 30_000 }),
      );
      return res.head.status === 200;
    }, "a peer to take the task");
    const { layer, reported } = delivery(url, 30_000);

    const res = await layer.send(fulfil("t-taken", 1, result("too late")));
    expect(res.head.status).toBe(409);
    expect(await settledValue(send, "t-taken")).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/^lost: /);
  });
});
