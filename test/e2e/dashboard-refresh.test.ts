// The dashboard's refresh over a real server, router and workers: listed again, jobs that have
// not moved cost no reads of their attempt records, and a job that moved (its worker killed,
// a peer running it as attempt 2) is read again at once, so the list says what a fresh one says.
import { afterEach, describe, expect, it } from "vitest";
import { AttemptMemo } from "../../src/orchestration/client/attempt-memo.ts";
import { listJobs, type ListedJob } from "../../src/orchestration/client/list.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { requestSender } from "../../src/orchestration/wire/wire.ts";
import { jobSpec, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { eventually, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopAll();
});

/** What a row shows of a job's attempts. */
function runs(jobs: readonly ListedJob[]): [string, string, number, string | undefined][] {
  return jobs
    .map((j): [string, string, number, string | undefined] => [
      j.id,
      j.stage,
      j.attempt,
      j.worker?.pid,
    ])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe("the dashboard's refresh", () => {
  it("reads the attempts of a job again only once it has moved", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const workDir = tempDir();
    const first = await startWorkerProcess(server.url, "g", workDir, ["--slots", "2"]);
    const client = new ModulateClient({ url: server.url });
    clients.push(client);
    const specs = [
      jobSpec("sleepy.py", { args: ["120"] }),
      jobSpec("sleepy.py", { args: ["120"] }),
    ];
    for (const spec of specs) await client.submit(spec, 60_000);
    for (const spec of specs) await first.waitFor(new RegExp(`start ${spec.id} attempt 1`));

    const send = requestSender({ url: server.url });
    const memo = new AttemptMemo();
    const list = async () =>
      (await listJobs(memo.sendFor(send), { all: false, limit: 100 }, Date.now())).jobs;
    const running = await eventually(async () => {
      const jobs = await list();
      return jobs.length === 2 && jobs.every((j) => j.stage === "running") ? jobs : undefined;
    }, "both jobs listed running");
    expect(runs(running).map((r) => r.slice(1))).toEqual([
      ["running", 1, first.workerPid],
      ["running", 1, first.workerPid],
    ]);
    const read = memo.counts.read;
    expect(read).toBeGreaterThan(0);

    // Nothing moved: the next listing says the same and reads no attempt record.
    const again = await list();
    expect(runs(again)).toEqual(runs(running));
    expect(again.map((j) => j.startedAt)).toEqual(running.map((j) => j.startedAt));
    expect(memo.counts.read).toBe(read);
    expect(memo.counts.kept).toBeGreaterThan(0);

    // The worker is killed and a peer takes both jobs: attempt 2 on the peer, as a fresh
    // listing (no memo) says.
    first.kill("SIGKILL");
    await first.exited();
    const peer = await startWorkerProcess(server.url, "g", workDir, ["--slots", "2"]);
    const moved = await eventually(
      async () => {
        const jobs = await list();
        return jobs.length === 2 &&
          jobs.every((j) => j.stage === "running" && j.worker?.pid === peer.workerPid)
          ? jobs
          : undefined;
      },
      "both jobs running on the peer",
      60_000,
    );
    const fresh = (await listJobs(send, { all: false, limit: 100 }, Date.now())).jobs;
    expect(runs(moved)).toEqual(runs(fresh));
    expect(runs(moved).map((r) => r[2])).toEqual([2, 2]);
    expect(memo.counts.read).toBeGreaterThan(read);
  }, 120_000);
});
