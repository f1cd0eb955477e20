// The attempt memo's rules against a stand-in server that answers the protocol's requests:
// kept while a job has not moved, read again once it has, and never kept while the process
// holding the job's task has not yet written its attempt's record.
import { describe, expect, it } from "vitest";
import { AttemptMemo } from "../../src/orchestration/client/attempt-memo.ts";
import { attemptId, executeId, TAG } from "../../src/orchestration/jobs/names.ts";
import { encodeValue, request, type Send } from "../../src/orchestration/wire/wire.ts";

const JOB = "job-mx6aaaaa-00000001";

/** A server holding one job's execute promise, who holds its task, and its attempt records. */
function server() {
  const world = { holder: "w-1" as string | undefined, attempts: ["w-1"], gets: 0 };
  const send = ((req: { kind: string; data: { id?: string } }) => {
    const ok = (data: unknown) => Promise.resolve({ kind: req.kind, head: { status: 200 }, data });
    if (req.kind === "task.search")
      return ok({ tasks: world.holder ? [{ id: executeId(JOB), pid: world.holder }] : [] });
    if (req.kind === "promise.search")
      return ok({
        promises: [{ id: executeId(JOB), state: "pending", tags: { [TAG.executeOf]: JOB } }],
      });
    world.gets += 1;
    const n = world.attempts.findIndex((_, i) => attemptId(JOB, i + 1) === req.data.id);
    const pid = world.attempts[n];
    if (pid === undefined)
      return Promise.resolve({ kind: req.kind, head: { status: 404 }, data: "not found" });
    const param = encodeValue({ jobId: JOB, attempt: n + 1, worker: { pid } });
    return ok({ promise: { id: req.data.id, state: "pending", param, value: {} } });
  }) as unknown as Send;
  return { world, send };
}

/** One listing's reads, in listJobs' order: tasks, executes, then each attempt until one is missing. */
async function list(memo: AttemptMemo, send: Send): Promise<number> {
  const s = memo.sendFor(send);
  await s(request("task.search", { state: "acquired", limit: 1000 }));
  await s(request("promise.search", { state: "pending", tags: { [TAG.kind]: "execute" } }));
  let n = 1;
  while ((await s(request("promise.get", { id: attemptId(JOB, n) }))).head.status === 200) n++;
  return n - 1;
}

describe("the attempt memo", () => {
  it("keeps a job's attempts while it has not moved, and reads them again once it has", async () => {
    const { world, send } = server();
    const memo = new AttemptMemo();
    expect(await list(memo, send)).toBe(1);
    expect(world.gets).toBe(2);
    expect(await list(memo, send)).toBe(1);
    expect(world.gets).toBe(2);
    // Its worker dies; a peer takes the task and writes attempt 2.
    world.holder = "w-2";
    world.attempts.push("w-2");
    expect(await list(memo, send)).toBe(2);
    expect(world.gets).toBe(5);
  });

  it("does not keep 'no next attempt' while the holder's own attempt is not yet written", async () => {
    const { world, send } = server();
    const memo = new AttemptMemo();
    expect(await list(memo, send)).toBe(1);
    // The peer holds the task but has not written its record yet.
    world.holder = "w-2";
    expect(await list(memo, send)).toBe(1);
    world.attempts.push("w-2");
    expect(await list(memo, send)).toBe(2);
    const reads = world.gets;
    expect(await list(memo, send)).toBe(2);
    expect(world.gets).toBe(reads);
  });

  it("reads everything again once what it kept is a minute old", async () => {
    const { world, send } = server();
    let now = 0;
    const memo = new AttemptMemo(
      () => now,
      () => 1,
    );
    await list(memo, send);
    now = 59_000;
    await list(memo, send);
    expect(world.gets).toBe(2);
    now = 61_000;
    await list(memo, send);
    expect(world.gets).toBe(4);
  });
});
