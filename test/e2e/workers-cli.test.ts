// `modulate workers` as a user reads it, against real server, router and worker processes:
// what each live worker announces, the jobs it runs, a killed worker dropping out within its
// lease, and `submit` warning when its group has nobody to run it (issue 15).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.ts";
import type { WorkerView } from "../../src/orchestration/presence.ts";
import { captureContext } from "../modes/capture-context.ts";
import packageJson from "../../package.json" with { type: "json" };
import {
  freePort,
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
} from "../helpers/processes.ts";

let server: ServerProcess;
let cpu: WorkerProcess;
let gpu: WorkerProcess;

beforeAll(async () => {
  server = await startServerProcess();
  // A machine type routed to a group: a job for `big` waits in group cpu.
  const routes = join(tempDir(), "routes");
  writeFileSync(routes, "big -> cpu\nhuge -> nowhere\n");
  await startRouterProcess(server.url, ["--routes", routes]);
  cpu = await startWorkerProcess(server.url, "cpu", tempDir(), ["--slots", "2"]);
  // A short lease, so that its death shows soon.
  gpu = await startWorkerProcess(server.url, "gpu", tempDir(), [
    "--gpus",
    "0,1",
    "--lease",
    "2s",
    "--interpreter",
    `torch=${process.execPath}`,
  ]);
});

afterAll(stopAll);

async function listWorkers(...args: string[]): Promise<WorkerView[]> {
  const run = await runCli(server.url, "workers", "--json", ...args);
  expect(run.code).toBe(0);
  return JSON.parse(run.out) as WorkerView[];
}

describe("modulate workers", () => {
  it("lists each live worker with what it announced and the jobs it runs now", async () => {
    const submitted = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "sleepy.py"),
      "--group",
      "cpu",
      "--detach",
      "--",
      "30",
    );
    expect(submitted.code).toBe(0);
    const jobId = submitted.out.trim().split("\n").pop() ?? "";
    const workers = await eventually(async () => {
      const listed = await listWorkers();
      return listed.find((w) => w.group === "cpu")?.jobs.includes(jobId) ? listed : undefined;
    }, `job ${jobId} listed under the cpu worker`);
    expect(workers.map((w) => w.group)).toEqual(["cpu", "gpu"]);
    const version = packageJson.version;
    expect(workers[0]).toMatchObject({
      pid: cpu.workerPid,
      slots: 2,
      busy: 1,
      jobs: [jobId],
      gpus: [],
      interpreters: [],
      version,
      leaseMs: 8_000,
    });
    expect(workers[1]).toMatchObject({
      pid: gpu.workerPid,
      slots: 2,
      busy: 0,
      jobs: [],
      gpus: ["0", "1"],
      interpreters: ["torch"],
      version,
      leaseMs: 2_000,
    });
    for (const w of workers) expect(["bwrap", "none"]).toContain(w.sandbox);
    // Each says whether its .py jobs start in a warm python (on by default where it can).
    for (const w of workers) expect(typeof w.warmPython).toBe("boolean");

    const table = await runCli(server.url, "workers");
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^GROUP +HOST +PID +SLOTS +GPUS +INTERPRETERS +SANDBOX +VERSION +JOBS +LAST-SEEN$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^cpu .*${cpu.workerPid} +1/2 +none +none .*${jobId} +<8s ago$`),
    );
    expect(lines[2]).toMatch(new RegExp(`^gpu .*${gpu.workerPid} +0/2 +0,1 +torch .* - +<2s ago$`));
    workers.forEach((w, i) => {
      const cell = `${w.sandbox ?? ""}${w.warmPython ? "+warm-python" : ""}`;
      expect(lines[i + 1]?.split(/ +/)).toContain(cell);
    });

    expect(await listWorkers("--group", "gpu")).toHaveLength(1);
  });

  it("drops a worker killed with -9 within its lease", async () => {
    const victim = await startWorkerProcess(server.url, "doomed", tempDir(), ["--lease", "2s"]);
    await eventually(
      async () => ((await listWorkers("--group", "doomed")).length === 1 ? true : undefined),
      "the doomed worker listed",
    );
    const killedAt = Date.now();
    victim.kill("SIGKILL");
    await victim.exited();
    await eventually(
      async () => ((await listWorkers("--group", "doomed")).length === 0 ? true : undefined),
      "the killed worker gone from the list",
    );
    // Its lease, with room for a loaded machine; a dead worker listed for good fails above.
    expect(Date.now() - killedAt).toBeLessThan(15_000);
  });

  it("says in one line that no worker is alive, and how to start one", async () => {
    const run = await runCli(server.url, "workers", "--group", "nobody");
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      `no live workers in group nobody: start one with modulate worker --group nobody --url ${server.url}\n`,
    );
  });

  it("exits 3 when the server cannot be reached", async () => {
    const run = await runCli(`http://127.0.0.1:${await freePort()}`, "workers");
    expect(run.code).toBe(3);
  });
});

describe("submit to a group with no live worker", () => {
  it("warns on stderr and still accepts the job", async () => {
    const run = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--group",
      "nobody",
      "--detach",
    );
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      "modulate: warning: no live worker in group nobody now: the job waits for one",
    );
    const id = run.out.trim().split("\n").pop() ?? "";
    const got = await runCli(server.url, "get", id, "--json");
    expect(got.record.state).toBe("pending");
  });

  it("warns on stderr only: stdout holds the id alone", async () => {
    const ctx = captureContext();
    const script = join(JOB_FIXTURES, "quick.py");
    const argv = ["submit", script, "--url", server.url, "--group", "nobody", "--detach"];
    expect(await main(argv, ctx)).toBe(0);
    expect(ctx.out()).toMatch(/^job-\S+\n$/);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.err()).toContain("warning: no live worker in group nobody now");
  });

  it("says nothing of workers when its group has one", async () => {
    const run = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--group",
      "cpu",
      "--detach",
    );
    expect(run.code).toBe(0);
    expect(run.out).not.toContain("warning");
  });

  it("looks for the group a machine type is routed to, as the routers say", async () => {
    const submit = (group: string) =>
      runCli(server.url, "submit", join(JOB_FIXTURES, "quick.py"), "--group", group, "--detach");
    const routed = await submit("big");
    expect(routed.code).toBe(0);
    expect(routed.out).not.toContain("warning");
    const empty = await submit("huge");
    expect(empty.code).toBe(0);
    expect(empty.out).toContain("warning: no live worker in group huge now");
  });
});
