// `ls --all`'s newest jobs found through their roots' time-bucket tags, against a real
// `modulate server`: only the newest buckets are read, and jobs written without the tags (by
// an older modulate) are still listed once the walk runs out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobs } from "../../../src/orchestration/client/list.ts";
import type { JobResult, JobSpec } from "../../../src/orchestration/jobs/job.ts";
import { SUBMIT_FUNCTION, TAG } from "../../../src/orchestration/jobs/names.ts";
import { timeBucketTags } from "../../../src/orchestration/jobs/time-buckets.ts";
import { createTransport } from "../../../src/orchestration/wire/transport.ts";
import { encodeValue } from "../../../src/orchestration/wire/values.ts";
import { senderOver, type Send } from "../../../src/orchestration/wire/wire.ts";
import { send } from "../../helpers/protocol-client.ts";
import { startServerProcess, stopAll, type ServerProcess } from "../../helpers/processes.ts";

afterAll(stopAll);

const MINUTE_MS = 60_000;

async function writeFinishedJob(url: string, id: string, submittedAt: number, tagged: boolean) {
  const spec: JobSpec = {
    id,
    group: "cpu",
    script: { name: "recent.py", content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt,
  };
  const record: JobResult = {
    id,
    group: "cpu",
    state: "succeeded",
    reason: "",
    exitCode: 0,
    stdout: "",
    stderr: "",
    durationMs: 10,
    worker: { host: "h", pid: "cpu-h-1", group: "cpu" },
    attempt: 1,
    submittedAt,
    startedAt: submittedAt + 1,
    finishedAt: submittedAt + 11,
  };
  const created = await send(url, "promise.create", {
    id,
    timeoutAt: Date.now() + 3_600_000,
    param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
    tags: { [TAG.kind]: "job", [TAG.group]: "cpu", ...(tagged ? timeBucketTags(submittedAt) : {}) },
  });
  expect(created.status).toBe(200);
  const settled = await send(url, "promise.settle", {
    id,
    state: "resolved",
    value: encodeValue(record),
  });
  expect(settled.status).toBe(200);
}

describe("ls --all through time buckets", () => {
  let server: ServerProcess;
  const now = Date.now();

  beforeAll(async () => {
    server = await startServerProcess();
    // Tagged jobs a few minutes apart over the last hours, and two older untagged ones.
    const writes = Array.from({ length: 20 }, (_, i) =>
      writeFinishedJob(
        server.url,
        `job-tagged-${String(i).padStart(2, "0")}`,
        now - 5_000 - i * 7 * MINUTE_MS,
        true,
      ),
    );
    writes.push(
      writeFinishedJob(server.url, "job-untagged-1", now - 3 * 24 * 60 * MINUTE_MS, false),
    );
    writes.push(
      writeFinishedJob(server.url, "job-untagged-2", now - 4 * 24 * 60 * MINUTE_MS, false),
    );
    await Promise.all(writes);
  }, 60_000);

  async function listCounting(limit: number) {
    const transport = createTransport({ url: server.url });
    const through = senderOver(transport, { url: server.url });
    let kindSearches = 0;
    const counting: Send = (req) => {
      const data = req.data as { tags?: Record<string, string> } | undefined;
      // Reading every job searches by kind alone; a bucket's read names its kind beside it.
      const tags = Object.keys(data?.tags ?? {});
      if (req.kind === "promise.search" && tags.length === 1 && tags[0] === TAG.kind)
        kindSearches += 1;
      return through(req);
    };
    try {
      return { listed: await listJobs(counting, { all: true, limit }, Date.now()), kindSearches };
    } finally {
      transport.close();
    }
  }

  it("lists the newest without reading every job, and says older ones may match", async () => {
    const { listed, kindSearches } = await listCounting(5);
    expect(listed.jobs.map((j) => j.id)).toEqual([
      "job-tagged-00",
      "job-tagged-01",
      "job-tagged-02",
      "job-tagged-03",
      "job-tagged-04",
    ]);
    expect(listed.jobs[0]).toMatchObject({ stage: "succeeded", script: "recent.py" });
    expect(listed.olderMayMatch).toBe(true);
    expect(kindSearches).toBe(0);
  });

  it("reads everything when the buckets hold fewer than asked, so untagged jobs are listed", async () => {
    const { listed, kindSearches } = await listCounting(100);
    expect(listed.jobs).toHaveLength(22);
    expect(listed.jobs.slice(-2).map((j) => j.id)).toEqual(["job-untagged-1", "job-untagged-2"]);
    expect(listed.olderMayMatch).toBeUndefined();
    expect(kindSearches).toBeGreaterThan(0);
  });
});
