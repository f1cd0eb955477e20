// The follower's reader against a real server: chunks read in order, a re-dispatch followed
// onto the next attempt, --tail's last lines, and whether the stream had the whole output.
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode, UserError } from "../../src/common/errors.ts";
import {
  followOutput,
  streamVerdict,
  type FollowReport,
} from "../../src/orchestration/client/follow-output.ts";
import type { JobResult } from "../../src/orchestration/jobs/job.ts";
import { attemptId, outputChunkId } from "../../src/orchestration/jobs/names.ts";
import type { OutputChunk, OutputPart } from "../../src/orchestration/output-chunk.ts";
import {
  encodeValue,
  request,
  requestSender,
  type Send,
} from "../../src/orchestration/wire/wire.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freePort } from "../helpers/cluster.ts";
import { eventually, tempDir } from "../helpers/processes.ts";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serverSend(): Promise<Send> {
  const port = await freePort();
  servers.push(await startServer({ host: "127.0.0.1", port, dataDir: tempDir() }));
  return requestSender({ url: `http://127.0.0.1:${port}` });
}

async function attempt(send: Send, jobId: string, n: number, pid: string): Promise<void> {
  const record = {
    jobId,
    attempt: n,
    worker: { host: "h", pid, group: "g" },
    startedAt: 1,
    token: pid,
  };
  await send(
    request("promise.create", {
      id: attemptId(jobId, n),
      timeoutAt: Date.now() + 60_000,
      param: encodeValue(record),
      tags: {},
    }),
  );
}

async function chunk(
  send: Send,
  jobId: string,
  n: number,
  seq: number,
  parts: OutputPart[],
  extra: Partial<OutputChunk> = {},
): Promise<void> {
  const value: OutputChunk = { parts, skippedBytes: 0, fromT: 1, toT: 1, ...extra };
  await send(
    request("promise.create", {
      id: outputChunkId(jobId, n, seq),
      timeoutAt: Date.now(),
      param: encodeValue(value),
      tags: {},
    }),
  );
}

function resultOf(jobId: string, attemptNumber: number): JobResult {
  return {
    id: jobId,
    group: "g",
    state: "succeeded",
    reason: "",
    exitCode: 0,
    stdout: "",
    stderr: "",
    durationMs: 1,
    worker: null,
    attempt: attemptNumber,
    submittedAt: 1,
    startedAt: 1,
    finishedAt: 2,
  };
}

describe("following a job's live output", () => {
  it("reads each chunk once, moves onto a re-dispatched attempt, and stops when the job ends", async () => {
    const send = await serverSend();
    const jobId = "job-follow-1";
    await attempt(send, jobId, 1, "w-1");
    await chunk(send, jobId, 1, 0, [["stdout", "a1\n"]]);
    let end: (result: JobResult) => void = () => undefined;
    const ended = new Promise<JobResult>((resolve) => (end = resolve));
    const seen: string[] = [];
    const following = followOutput(
      send,
      jobId,
      { follow: true, ended, pollMs: 20 },
      {
        onOutput: ([stream, text]) => seen.push(`${stream}:${text.trim()}`),
        onAttempt: (record, previous) => seen.push(`attempt ${record.attempt} after ${previous}`),
      },
    );
    // The follower is on attempt 1 before attempt 2 exists (else it would start at the latest).
    await eventually(() => seen.includes("stdout:a1") || undefined, "the first chunk to be read");
    await chunk(send, jobId, 1, 1, [["stderr", "a1-err\n"]]);
    await eventually(() => seen.includes("stderr:a1-err") || undefined, "the second chunk");
    // Attempt 1's worker dies without a final chunk; attempt 2 runs it to the end.
    await attempt(send, jobId, 2, "w-2");
    await chunk(send, jobId, 2, 0, [["stdout", "b1\n"]]);
    await chunk(send, jobId, 2, 1, [["stdout", "b2\n"]], { final: true });
    end(resultOf(jobId, 2));
    const report = await following;

    expect(seen).toEqual([
      "attempt 1 after undefined",
      "stdout:a1",
      "stderr:a1-err",
      "attempt 2 after 1",
      "stdout:b1",
      "stdout:b2",
    ]);
    expect(report.result?.attempt).toBe(2);
    expect(report.attempts.get(1)).toMatchObject({ chunks: 2, final: false });
    expect(report.attempts.get(2)).toMatchObject({ chunks: 2, final: true });
    expect(streamVerdict(report, resultOf(jobId, 2))).toEqual({ kind: "complete" });
  });

  it("ends with the job's record when the job ends without ever running", async () => {
    const send = await serverSend();
    const jobId = "job-follow-never";
    const record = { ...resultOf(jobId, 0), state: "timed_out" as const };
    const report = await followOutput(
      send,
      jobId,
      { follow: true, ended: Promise.resolve(record), pollMs: 20 },
      { onOutput: () => undefined },
    );
    expect(report.result?.state).toBe("timed_out");
    expect(report.attempts.size).toBe(0);
    expect(streamVerdict(report, record)).toEqual({ kind: "none" });
  });

  it("ends at the job's end when the server refuses its reads", async () => {
    // As a server answers a token scoped away from the chunks: each read fails as unreachable.
    const refused: Send = () =>
      Promise.reject(new UserError("refused our credentials", ExitCode.unreachable));
    const record = resultOf("job-follow-refused", 1);
    const report = await followOutput(
      refused,
      "job-follow-refused",
      { follow: true, ended: Promise.resolve(record), pollMs: 20 },
      { onOutput: () => undefined },
    );
    expect(report.result).toBe(record);
    expect(streamVerdict(report, record)).toEqual({ kind: "none" });
  });

  it("with a tail, prints only the last lines of what is there", async () => {
    const send = await serverSend();
    const jobId = "job-follow-2";
    await attempt(send, jobId, 1, "w-1");
    await chunk(send, jobId, 1, 0, [["stdout", "1\n2\n"]]);
    await chunk(send, jobId, 1, 1, [
      ["stderr", "3\n"],
      ["stdout", "4\n"],
    ]);
    const parts: OutputPart[] = [];
    const report = await followOutput(
      send,
      jobId,
      { follow: false, tailLines: 2 },
      { onOutput: (part) => parts.push(part) },
    );
    expect(parts).toEqual([
      ["stderr", "3\n"],
      ["stdout", "4\n"],
    ]);
    expect(report.attempts.get(1)?.fromStart).toBe(false);
  });

  it("says what a stream missed, and that none came where none did", () => {
    const jobId = "job-follow-3";
    const reading = { chunks: 3, skippedBytes: 0, final: true, fromStart: true };
    const reportWith = (extra: object): FollowReport => ({
      attempts: new Map([[1, { ...reading, ...extra }]]),
    });
    const cut = streamVerdict(
      reportWith({ skippedBytes: 500, fullLog: { host: "h", file: "/l/attempt-1.jsonl" } }),
      resultOf(jobId, 1),
    );
    expect(cut.kind).toBe("partial");
    expect(cut.kind === "partial" && cut.note).toContain("/l/attempt-1.jsonl on h");
    expect(streamVerdict(reportWith({ final: false }), resultOf(jobId, 1)).kind).toBe("partial");
    expect(streamVerdict(reportWith({}), resultOf(jobId, 2))).toEqual({ kind: "none" });
  });
});
