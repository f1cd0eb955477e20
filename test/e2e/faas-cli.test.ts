// The FaaS core as a user drives it: `modulate submit` and `get` against real router and
// worker processes, read by exit code and by the JSON record.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModulateClient } from "../../src/orchestration/client.ts";
import {
  jobSpec,
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type CliRun,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import {
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
  JOB_FIXTURES,
} from "../helpers/processes.ts";

const JOBS = JOB_FIXTURES;
let server: ServerProcess;
let single: WorkerProcess;

beforeAll(async () => {
  server = await startServerProcess(["--data", tempDir()]);
  const routes = join(tempDir(), "routes");
  writeFileSync(routes, "# machine types\na100 -> gpu-a100\n");
  // Two routers at once, sharing the routes: either may take any submission.
  await Promise.all([
    startRouterProcess(server.url, ["--routes", routes]),
    startRouterProcess(server.url, ["--routes", routes]),
  ]);
  await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", "2"]);
  await startWorkerProcess(server.url, "gpu-a100", tempDir());
  single = await startWorkerProcess(server.url, "single", tempDir(), ["--slots", "1"]);
});

afterAll(stopAll);

function modulate(command: string, ...args: string[]): Promise<CliRun> {
  return runCli(server.url, command, ...args);
}

describe("modulate submit and get", () => {
  it("waits for a script and exits with its code, passing arguments after --", async () => {
    const ok = await modulate("submit", join(JOBS, "args.py"), "--json", "--", "--epochs", "007");
    expect(ok.code).toBe(0);
    expect(ok.record.stdout).toBe("--epochs 007\n");
    const failed = await modulate("submit", join(JOBS, "exit-7.py"), "--json");
    expect(failed.code).toBe(7);
    expect(failed.record).toMatchObject({
      state: "failed",
      exitCode: 7,
      stderr: "failing on purpose\n",
    });
  });

  it("says which job a waiting submission is, once it is accepted, so another terminal can follow it", async () => {
    const run = await modulate("submit", join(JOBS, "quick.py"), "--group", "cpu", "--json");
    expect(run.code).toBe(0);
    expect(run.out).toContain(`modulate: job ${run.record.id} queued on cpu\n`);
  });

  it("ends a job past its --timeout as timed_out with exit code 124", async () => {
    const res = await modulate(
      "submit",
      join(JOBS, "sleepy.py"),
      "--timeout",
      "1s",
      "--json",
      "--",
      "30",
    );
    expect(res.code).toBe(124);
    expect(res.record.state).toBe("timed_out");
  });

  it("refuses a script nothing would run on the client, before a job record exists", async () => {
    const id = `notes-${Date.now()}`;
    const res = await modulate("submit", join(JOBS, "notes.txt"), "--id", id, "--json");
    expect(res.code).toBe(2);
    expect(res.out.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^modulate: cannot run script notes\.txt: modulate runs .*\.bash.*; rename it .*; nothing was submitted$/,
      ),
    ]);
    // A submission that had reached the server would be found, routed or not.
    const get = await modulate("get", id, "--json");
    expect(get.code).toBe(4);
  });

  it("routes a machine type through the routes file", async () => {
    const res = await modulate("submit", join(JOBS, "quick.py"), "--group", "a100", "--json");
    expect(res.code).toBe(0);
    expect(res.record.worker?.group).toBe("gpu-a100");
  });

  it("treats the same --id twice as the same job, and refuses it for another script", async () => {
    const id = `same-${Date.now()}`;
    const submit = (script: string): Promise<CliRun> =>
      modulate("submit", join(JOBS, script), "--id", id, "--detach", "--json");
    const first = await submit("quick.py");
    const again = await submit("quick.py");
    expect([first.record, again.record]).toEqual([
      { id, existing: false },
      { id, existing: true },
    ]);
    const other = await submit("args.py");
    expect(other.code).toBe(2);
    expect(other.out.trim()).toBe(
      `modulate: --id ${id} is already the id of a job with a different script name, script content: pick another id (or resubmit the same script and options to follow that job); nothing was submitted`,
    );
    const result = await modulate("get", id, "--wait", "--json");
    expect(result.record.stdout).toBe("quick\n");
  });

  it("keeps job ids a user gives apart from modulate's own", async () => {
    const id = `clash-${Date.now()}`;
    // The name of the execute promise of job `id`: a job's own promises extend its id with a '.'.
    const child = await modulate("submit", join(JOBS, "args.py"), "--id", `${id}.execute`);
    expect(child.code).toBe(2);
    expect(child.out.trim().split("\n")).toHaveLength(1);
    expect(child.out).toContain(`"${id}.execute" is not a valid job id: '.' separates`);
    const reserved = await modulate("submit", join(JOBS, "args.py"), "--id", `modulate-${id}`);
    expect(reserved.code).toBe(2);
    expect(reserved.out).toContain(`"modulate-${id}" starts with "modulate-"`);
    const plain = await modulate("submit", join(JOBS, "quick.py"), "--id", id, "--json");
    expect(plain.code).toBe(0);
    expect(plain.record.stdout).toBe("quick\n");
  });

  it("settles a job that prints 12 MB on each stream once, with the worker's default limits, and runs the next", async () => {
    const big = await modulate(
      "submit",
      join(JOBS, "big-output.py"),
      "--group",
      "single",
      "--detach",
    );
    const next = await modulate("submit", join(JOBS, "quick.py"), "--group", "single", "--detach");
    const [bigId, nextId] = [big.out.trim(), next.out.trim()];
    const client = new ModulateClient({ url: server.url });
    try {
      const result = await client.waitForJob(bigId, "detach");
      expect(result).toMatchObject({ state: "succeeded", attempt: 1, exitCode: 0 });
      expect(result.reason).toMatch(
        /^output cut to fit the result: stdout 11\.4 MiB \(.* kept\), stderr 11\.4 MiB \(.* kept\); full output in the attempt log \S+attempt-1\.jsonl on \S+$/,
      );
      expect(result.stdout.endsWith("the end\n")).toBe(true);
      // Its one attempt, as a later `modulate get` sees it.
      const history = await runCli(server.url, "get", bigId);
      expect(history.code).toBe(0);
      expect(history.out).toMatch(/^attempt +1$/m);
      expect(history.out).not.toMatch(/^attempts:$/m);
      expect((await modulate("get", nextId, "--wait", "--json")).record.state).toBe("succeeded");
    } finally {
      await client.close();
    }
  }, 120_000);

  it("leaves no timer behind in a client that has its result, so a CLI ends at once", async () => {
    const client = new ModulateClient({ url: server.url });
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    const before = timers();
    const spec = jobSpec("args.py", { group: "cpu", mode: "wait" });
    await client.submit(spec, 60_000);
    const result = await client.waitForJob(spec.id);
    await client.close();
    expect(result.state).toBe("succeeded");
    // The wait on the job's own promise, which the execute promise beat, must let go too.
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("answers an unknown id with exit code 4", async () => {
    const res = await modulate("get", "job-that-never-was");
    expect(res.code).toBe(4);
    expect(res.out).toContain("no such job: job-that-never-was");
  });

  it("never runs more jobs than a worker has slots, and says why the next one waits", async () => {
    const first = await modulate(
      "submit",
      join(JOBS, "sleepy.py"),
      "--group",
      "single",
      "--detach",
      "--",
      "2",
    );
    const second = await modulate(
      "submit",
      join(JOBS, "quick.py"),
      "--group",
      "single",
      "--detach",
    );
    const [firstId, secondId] = [first.out.trim(), second.out.trim()];
    await single.waitFor(new RegExp(`start ${firstId}`));
    const waiting = await modulate("get", secondId, "--json");
    expect(waiting.record).toMatchObject({
      state: "pending",
      reason: "all 1 slot of group single busy",
    });
    expect((await modulate("get", secondId, "--wait")).code).toBe(0);
    const log = single.output();
    expect(log.indexOf(`done ${firstId}`)).toBeLessThan(log.indexOf(`start ${secondId}`));
  });
});
