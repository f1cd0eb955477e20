// Plain `ls` against a real `modulate server` holding more queued jobs than a search page:
// only the jobs shown get their REASON, but every queued job still counts for those behind
// it, in submission order (not id order), per group; and what was left out is counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobs } from "../../../src/orchestration/client/list.ts";
import type { JobSpec } from "../../../src/orchestration/jobs/job.ts";
import {
  EXECUTE_FUNCTION,
  executeId,
  SUBMIT_FUNCTION,
  TAG,
} from "../../../src/orchestration/jobs/names.ts";
import { anycastAddress } from "../../../src/orchestration/wire/poll-address.ts";
import { encodeValue } from "../../../src/orchestration/wire/values.ts";
import { requestSender } from "../../../src/orchestration/wire/wire.ts";
import { send } from "../../helpers/protocol-client.ts";
import { startServerProcess, stopAll, type ServerProcess } from "../../helpers/processes.ts";

afterAll(stopAll);

/** More than one search page (1,000) of queued jobs in group a; a few in group b. */
const IN_A = 1_010;
const IN_B = 3;
const HOUR_MS = 3_600_000;

/** A job as a client and a router leave it: its root resolved with the receipt, queued. */
async function writeQueuedJob(url: string, id: string, group: string, submittedAt: number) {
  const spec: JobSpec = {
    id,
    group,
    script: { name: "queued.py", content: "print(1)\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt,
  };
  const timeoutAt = Date.now() + HOUR_MS;
  const execute = executeId(id);
  const answers = [
    await send(url, "promise.create", {
      id,
      timeoutAt,
      param: encodeValue({ func: SUBMIT_FUNCTION, args: [spec], version: 1 }),
      tags: { [TAG.kind]: "job", [TAG.group]: group },
    }),
    await send(url, "promise.settle", {
      id,
      state: "resolved",
      value: encodeValue({ detached: true, id, group, executeId: execute }),
    }),
    await send(url, "promise.create", {
      id: execute,
      timeoutAt,
      param: encodeValue({ func: EXECUTE_FUNCTION, args: [spec], version: 1 }),
      tags: {
        [TAG.executeOf]: id,
        [TAG.kind]: "execute",
        [TAG.group]: group,
        "resonate:target": anycastAddress(group),
      },
    }),
  ];
  for (const answer of answers) expect(answer.status).toBe(200);
}

describe("ls of outstanding jobs over more than a page", () => {
  let server: ServerProcess;
  const now = Date.now();
  // Ids run against submission order: the search answers in id order, the queue is by time.
  const idOf = (n: number): string => `job-q-${String(9_999 - n).padStart(4, "0")}`;
  const submittedAt = (n: number): number => now - 60_000 + n;

  beforeAll(async () => {
    server = await startServerProcess();
    const jobs = Array.from({ length: IN_A + IN_B }, (_, n) => n);
    // Group b's jobs are the 100th, the 1,000th and the very last submitted.
    const groupOf = (n: number): string =>
      n === 100 || n === 1_000 || n === IN_A + IN_B - 1 ? "b" : "a";
    for (let at = 0; at < jobs.length; at += 32) {
      await Promise.all(
        jobs
          .slice(at, at + 32)
          .map((n) => writeQueuedJob(server.url, idOf(n), groupOf(n), submittedAt(n))),
      );
    }
  }, 120_000);

  it("words the newest jobs' REASON with every earlier job of their group counted", async () => {
    const sendTo = requestSender({ url: server.url });
    const listed = await listJobs(sendTo, { all: false, limit: 3 }, Date.now());
    const last = IN_A + IN_B - 1;
    expect(listed.jobs.map((job) => job.id)).toEqual([idOf(last), idOf(last - 1), idOf(last - 2)]);
    expect(listed.jobs.map((job) => job.reason)).toEqual([
      "no live worker in group b; queued behind 2",
      `no live worker in group a; queued behind ${IN_A - 1}`,
      `no live worker in group a; queued behind ${IN_A - 2}`,
    ]);
    expect(listed.more).toBe(IN_A + IN_B - 3);
    expect(listed.jobs.every((job) => job.stage === "queued" && job.script === "queued.py")).toBe(
      true,
    );
  });

  it("counts only its own group's earlier jobs under --group", async () => {
    const sendTo = requestSender({ url: server.url });
    const listed = await listJobs(sendTo, { all: false, limit: 2, group: "b" }, Date.now());
    expect(listed.jobs.map((job) => [job.id, job.reason])).toEqual([
      [idOf(IN_A + IN_B - 1), "no live worker in group b; queued behind 2"],
      [idOf(1_000), "no live worker in group b; queued behind 1"],
    ]);
    expect(listed.more).toBe(1);
  });
});
