// The sandbox as submissions reach it: GPU slots, limits a submission lowers, output files
// brought back, and the network only where both sides agree.
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startRouterProcess, startWorkerProcess, type CliRun } from "../helpers/cluster.ts";
import {
  MODULATE,
  ROOT,
  start,
  startServerProcess,
  stopAll,
  tempDir,
  type ServerProcess,
  JOB_FIXTURES,
} from "../helpers/processes.ts";

const JOBS = JOB_FIXTURES;
const FAKE_GPU_PATH = `${join(ROOT, "test", "fixtures", "sandbox")}:${process.env["PATH"] ?? ""}`;
let server: ServerProcess;
let listener: Server;

beforeAll(async () => {
  server = await startServerProcess(["--in-memory"]);
  await startRouterProcess(server.url);
  // A secret in the worker's own environment, which no job may see.
  await startWorkerProcess(server.url, "cpu", tempDir(), [], { HOME_SECRET: "leak" });
  const gpuWorker = start(
    MODULATE,
    [
      "worker",
      "--url",
      server.url,
      "--group",
      "gpu",
      "--gpus",
      "auto",
      "--work-dir",
      tempDir(),
      "--python",
      "/usr/bin/python3",
    ],
    { PATH: FAKE_GPU_PATH },
  );
  await gpuWorker.waitFor(/modulate worker \S+ ready: group gpu, 2 slots/);
  listener = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  listener.close();
  await stopAll();
});

function submit(...args: string[]): Promise<CliRun> {
  return runCli(server.url, "submit", "--json", ...args);
}

describe("submissions in the sandbox", () => {
  it("gives each GPU slot its own CUDA_VISIBLE_DEVICES and records it", async () => {
    const [a, b] = await Promise.all([
      submit(join(JOBS, "gpu.py"), "--group", "gpu"),
      submit(join(JOBS, "gpu.py"), "--group", "gpu"),
    ]);
    const seen = [a, b].map((r) => String(r.record.stdout).trim()).sort();
    expect(seen).toEqual(["0", "1"]);
    expect([a, b].map((r) => (r.record.gpus ?? []).join()).sort()).toEqual(["0", "1"]);
  });

  it("holds a job to the memory its submission asked for, and says so", async () => {
    const res = await submit(join(JOBS, "memory-hog.py"), "--memory", "64M");
    expect(res.record.state).toBe("failed");
    expect(res.record.reason).toMatch(/memory limit 64 MiB/);
  });

  it("brings declared output files back next to the submitter", async () => {
    const dir = tempDir();
    const res = await submit(
      join(JOBS, "make-output.py"),
      "--output",
      "results/model.txt",
      "--output-dir",
      dir,
    );
    expect(res.code).toBe(0);
    expect(readFileSync(join(dir, "results", "model.txt"), "utf8")).toBe("weights 42\n");
    expect(res.out).toMatch(/wrote .*model.txt \(11 bytes\)/);
  });

  it("passes --env to the script and nothing else of the submitter's environment", async () => {
    const res = await submit(join(JOBS, "env.py"), "--env", "GREETING=hello world");
    expect(res.code).toBe(0);
    expect(res.record.stdout).toBe("hello world scrubbed\n");
  });

  it("refuses a malformed --env before submitting anything", async () => {
    const res = await submit(join(JOBS, "env.py"), "--env", "NOEQUALS");
    expect(res.code).toBe(2);
    expect(res.out).toContain('--env "NOEQUALS" is not K=V');
  });

  it.skipIf(process.getuid?.() !== 0)(
    "runs jobs as the worker's --run-as user (needs root)",
    async () => {
      // The job user must be able to reach its directory: mkdtemp makes directories 0700.
      const workDir = tempDir();
      chmodSync(workDir, 0o711);
      const worker = start(MODULATE, [
        "worker",
        "--url",
        server.url,
        "--group",
        "unprivileged",
        "--run-as",
        "modulate-test-job",
        "--work-dir",
        workDir,
        "--python",
        "/usr/bin/python3",
      ]);
      await worker.waitFor(/jobs run as modulate-test-job \(uid (\d+)\)/);
      const uid = (await worker.waitFor(/uid (\d+)/))[1];
      await worker.waitFor(/modulate worker \S+ ready/);
      const res = await submit(join(JOBS, "whoami.py"), "--group", "unprivileged");
      expect(res.code).toBe(0);
      expect(res.record.stdout).toBe(`${uid}\n`);
      expect(uid).not.toBe("0");
    },
  );

  it("keeps the network from a job unless the worker allows it", async () => {
    const port = String((listener.address() as AddressInfo).port);
    const res = await submit(join(JOBS, "connect.py"), "--network", "--", port);
    expect(res.code).toBe(1);
    expect(res.record.stdout).toMatch(/no network/);
    expect(existsSync(join(JOBS, "connect.py"))).toBe(true);
  });
});
