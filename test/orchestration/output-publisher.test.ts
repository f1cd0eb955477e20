// An attempt's live output through a real server: the publisher's pacing (one chunk per
// interval, the first at once, the last bytes kept) on a clock the test moves, and the
// chunks read back in order by the follower's reader.
import { afterEach, describe, expect, it } from "vitest";
import { followOutput, readChunk } from "../../src/orchestration/client/follow-output.ts";
import {
  attemptId,
  jobChildTags,
  newJobId,
  outputChunkId,
  TAG,
  useGeneration,
} from "../../src/orchestration/jobs/names.ts";
import { learnServerGeneration } from "../../src/orchestration/server-generation.ts";
import {
  ChunkBuffer,
  chunkIntervalMs,
  DEFAULT_PACING,
  type OutputPart,
} from "../../src/orchestration/output-chunk.ts";
import { OutputPublisher, type Schedule } from "../../src/orchestration/output-publisher.ts";
import {
  encodeValue,
  isOk,
  request,
  requestSender,
  type Send,
} from "../../src/orchestration/wire/wire.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freePort } from "../helpers/cluster.ts";
import { eventually, tempDir } from "../helpers/processes.ts";
import { checkingProxy, type CheckingProxy } from "../helpers/protocol-profiles/checking-proxy.ts";
import { PROFILES } from "../helpers/protocol-profiles/profiles.ts";

const servers: RunningServer[] = [];
const proxies: CheckingProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  useGeneration("none");
});

async function serverSend(): Promise<{ send: Send; writes: () => number }> {
  const port = await freePort();
  servers.push(await startServer({ host: "127.0.0.1", port, dataDir: tempDir() }));
  const inner = requestSender({ url: `http://127.0.0.1:${port}` });
  let creates = 0;
  const send: Send = (req) => {
    // A chunk is the one create that carries the output tag.
    const tags = (req.data as { tags?: Record<string, string> }).tags ?? {};
    if (req.kind === "promise.create" && TAG.outputOf in tags) creates += 1;
    return inner(req);
  };
  return { send, writes: () => creates };
}

/** A clock and timers the test moves by hand. */
function manualTime(): {
  clock: () => number;
  schedule: Schedule;
  advance(ms: number): Promise<void>;
} {
  let now = 1_000_000;
  let timers: { at: number; run: () => void }[] = [];
  return {
    clock: () => now,
    schedule: (run, delayMs) => {
      const timer = { at: now + delayMs, run };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    async advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.run();
      // Let the sends that the timers started reach the server and come back.
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}

async function readBack(send: Send, jobId: string, attempt: number) {
  const parts: OutputPart[] = [];
  const report = await followOutput(
    send,
    jobId,
    { attempt, follow: false },
    { onOutput: (part) => parts.push(part) },
  );
  return { parts, reading: report.attempts.get(attempt) };
}

async function recordAttempt(send: Send, jobId: string, attempt: number): Promise<void> {
  const record = {
    jobId,
    attempt,
    worker: { host: "h", pid: "w-1", group: "g" },
    startedAt: 1,
    token: "t",
  };
  const res = await send(
    request("promise.create", {
      id: attemptId(jobId, attempt),
      timeoutAt: Date.now() + 60_000,
      param: encodeValue(record),
      tags: jobChildTags(jobId, attemptId(jobId, attempt)),
    }),
  );
  expect(isOk(res)).toBe(true);
}

describe("the live output's chunks", () => {
  it("keeps a window's last bytes within the cap and counts the ones it drops", () => {
    const buffer = new ChunkBuffer(8);
    buffer.push("stdout", "aaaa", 1);
    buffer.push("stderr", "bbbb", 2);
    buffer.push("stdout", "cccc", 3);
    const chunk = buffer.take();
    expect(chunk.parts).toEqual([
      ["stderr", "bb\n"],
      ["stdout", "cccc\n"],
    ]);
    expect(chunk.skippedBytes).toBe(7);
    expect([chunk.fromT, chunk.toT]).toEqual([1, 3]);
    expect(buffer.isEmpty).toBe(true);
  });

  it("slows down a job that has published a lot, doubling the interval up to its ceiling", () => {
    const mib = 1024 * 1024;
    expect(chunkIntervalMs(DEFAULT_PACING, 0)).toBe(800);
    expect(chunkIntervalMs(DEFAULT_PACING, 4 * mib)).toBe(1_600);
    expect(chunkIntervalMs(DEFAULT_PACING, 12 * mib)).toBe(6_400);
    expect(chunkIntervalMs(DEFAULT_PACING, 1024 * mib)).toBe(60_000);
  });

  it("publishes the first line at once, the rest of a busy second at its end, and a final chunk", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const jobId = "job-pub-1";
    await recordAttempt(send, jobId, 1);
    const publisher = new OutputPublisher({
      send,
      jobId,
      attempt: 1,
      clock: time.clock,
      schedule: time.schedule,
    });
    publisher.line("stdout", "first");
    await time.advance(DEFAULT_PACING.gatherMs);
    expect(writes()).toBe(1);
    for (let i = 0; i < 1_000; i++) publisher.line(i % 2 ? "stderr" : "stdout", `line ${i}`);
    await time.advance(DEFAULT_PACING.intervalMs / 2);
    // Still within the interval: nothing more has gone.
    expect(writes()).toBe(1);
    await time.advance(DEFAULT_PACING.intervalMs / 2);
    expect(writes()).toBe(2);
    publisher.line("stdout", "last");
    await publisher.finish();
    expect(writes()).toBe(3);

    const { parts, reading } = await readBack(send, jobId, 1);
    const text = parts.map(([, t]) => t).join("");
    expect(text.startsWith("first\nline 0\nline 1\n")).toBe(true);
    expect(text.endsWith("line 999\nlast\n")).toBe(true);
    expect(parts.find(([s]) => s === "stderr")?.[1]).toBe("line 1\n");
    expect(reading).toMatchObject({ chunks: 3, final: true, skippedBytes: 0, fromStart: true });
  });

  it("keeps the last 64 KiB of a flood and names where the whole log is", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const jobId = "job-pub-2";
    await recordAttempt(send, jobId, 1);
    const publisher = new OutputPublisher({
      send,
      jobId,
      attempt: Promise.resolve(1),
      fullLog: { host: "host-a", file: (n) => `/logs/${jobId}/attempt-${n}.jsonl` },
      clock: time.clock,
      schedule: time.schedule,
    });
    const line = "x".repeat(99);
    for (let i = 0; i < 10_000; i++) publisher.line("stdout", `${line}${i % 10}`);
    await time.advance(DEFAULT_PACING.gatherMs);
    await publisher.finish();
    // A million bytes in one interval cost two writes: the chunk and the final one.
    expect(writes()).toBe(2);
    const { parts, reading } = await readBack(send, jobId, 1);
    const kept = parts.map(([, t]) => Buffer.byteLength(t)).reduce((a, b) => a + b, 0);
    expect(kept).toBe(DEFAULT_PACING.chunkMaxBytes);
    expect(reading?.skippedBytes).toBe(10_000 * 101 - kept);
    expect(reading?.fullLog).toEqual({ host: "host-a", file: `/logs/${jobId}/attempt-1.jsonl` });
    expect(
      parts
        .map(([, t]) => t)
        .join("")
        .endsWith(`${line}9\n`),
    ).toBe(true);
  });

  it.each(["v0.9.8", "colon", "c8d7c7b"] as const)(
    "publishes chunks that a %s server takes, and reads them back from it",
    async (profile) => {
      const port = await freePort();
      servers.push(await startServer({ host: "127.0.0.1", port, dataDir: tempDir() }));
      const proxy = await checkingProxy(`http://127.0.0.1:${port}`, PROFILES[profile]);
      proxies.push(proxy);
      // Named by the generation the proxy's profile shows, as a worker names them.
      await learnServerGeneration({ url: proxy.url });
      const send = requestSender({ url: proxy.url });
      const jobId = newJobId(Date.now());
      await recordAttempt(send, jobId, 1);
      const publisher = new OutputPublisher({ send, jobId, attempt: 1, pacing: { gatherMs: 0 } });
      publisher.line("stdout", "one");
      await eventually(() => publisher.published === 1 || undefined, "the first chunk");
      publisher.line("stderr", "two");
      await publisher.finish();
      const { parts, reading } = await readBack(send, jobId, 1);
      expect(parts).toEqual([
        ["stdout", "one\n"],
        ["stderr", "two\n"],
      ]);
      expect(reading).toMatchObject({ chunks: 2, final: true });
      expect(
        proxy.refused.filter((r) => !r.id.includes("modulate-probe")),
        JSON.stringify(proxy.refused),
      ).toEqual([]);
    },
  );

  it("publishes nothing for a run that ended before its first chunk went: the record holds it all", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const publisher = new OutputPublisher({
      send,
      jobId: "job-pub-short",
      attempt: 1,
      clock: time.clock,
      schedule: time.schedule,
    });
    publisher.line("stdout", "hello");
    await publisher.finish();
    await time.advance(2_000);
    expect(writes()).toBe(0);
  });

  it("publishes nothing for a run whose processes ended before its first chunk went, however long the sandbox takes to close", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const publisher = new OutputPublisher({
      send,
      jobId: "job-pub-ended",
      attempt: 1,
      clock: time.clock,
      schedule: time.schedule,
    });
    publisher.line("stdout", "ok");
    publisher.processesEnded();
    // The sandbox's clean-up outlasts the gather: the line is in hand, and no chunk goes.
    await time.advance(DEFAULT_PACING.gatherMs * 5);
    publisher.line("stdout", "drained after the exit");
    await time.advance(DEFAULT_PACING.gatherMs * 5);
    await publisher.finish();
    expect(writes()).toBe(0);
  });

  it("still sends the rest as the final chunk when a chunk went before the processes ended", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const jobId = "job-pub-ended-late";
    await recordAttempt(send, jobId, 1);
    const publisher = new OutputPublisher({
      send,
      jobId,
      attempt: 1,
      clock: time.clock,
      schedule: time.schedule,
    });
    publisher.line("stdout", "first");
    await time.advance(DEFAULT_PACING.gatherMs);
    expect(writes()).toBe(1);
    publisher.line("stdout", "last");
    publisher.processesEnded();
    await time.advance(DEFAULT_PACING.intervalMs * 2);
    expect(writes()).toBe(1);
    await publisher.finish();
    expect(writes()).toBe(2);
    const { parts, reading } = await readBack(send, jobId, 1);
    expect(parts.map(([, t]) => t).join("")).toBe("first\nlast\n");
    expect(reading).toMatchObject({ chunks: 2, final: true });
  });

  it("publishes a short run's output as its final chunk when the job may run again (--retries)", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const publisher = new OutputPublisher({
      send,
      jobId: "job-pub-retried",
      attempt: 1,
      clock: time.clock,
      schedule: time.schedule,
      publishShortOutput: true,
    });
    publisher.line("stderr", "failed once");
    await publisher.finish();
    expect(writes()).toBe(1);
    const chunk = await readChunk(send, "job-pub-retried", 1, 0);
    expect(chunk).toMatchObject({ final: true, parts: [["stderr", "failed once\n"]] });
  });

  it("publishes nothing for an attempt whose claim failed", async () => {
    const { send, writes } = await serverSend();
    const time = manualTime();
    const claim = Promise.reject(new Error("timed out in its queue"));
    const publisher = new OutputPublisher({
      send,
      jobId: "job-pub-3",
      attempt: claim,
      clock: time.clock,
      schedule: time.schedule,
    });
    await claim.catch(() => undefined);
    publisher.line("stdout", "never");
    await time.advance(2_000);
    await publisher.finish();
    expect(writes()).toBe(0);
    const res = await send(request("promise.get", { id: outputChunkId("job-pub-3", 1, 0) }));
    expect(isOk(res)).toBe(false);
  });
});
