// A modulate cluster of real processes for end-to-end tests: server, routers, workers.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ModulateClient } from "../../src/orchestration/client.ts";
import type { JobResult, JobSpec } from "../../src/orchestration/jobs/job.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import {
  MODULATE,
  JOB_FIXTURES,
  start,
  startServerProcess,
  type ServerProcess,
  type Spawned,
} from "./processes.ts";

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startRouterProcess(url: string, extra: string[] = []): Promise<Spawned> {
  const p = start(MODULATE, ["router", "--url", url, "--lease", "3s", ...extra]);
  await p.waitFor(/modulate router \S+ ready/);
  return p;
}

export interface WorkerProcess extends Spawned {
  readonly workerPid: string;
}

export async function startWorkerProcess(
  url: string,
  group: string,
  workDir: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<WorkerProcess> {
  const p = start(
    MODULATE,
    [
      "worker",
      "--url",
      url,
      "--group",
      group,
      "--work-dir",
      workDir,
      "--python",
      "/usr/bin/python3",
      ...extra,
    ],
    env,
  );
  const match = await p.waitFor(/modulate worker (\S+) ready/);
  return Object.assign(p, { workerPid: match[1] ?? "" });
}

export function jobSpec(script: string, overrides: Partial<JobSpec> = {}): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group: "g",
    script: {
      name: script,
      content: readFileSync(join(JOB_FIXTURES, script), "utf8"),
    },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt: now,
    ...overrides,
  };
}

export interface Cluster {
  server: ServerProcess;
  client: ModulateClient;
}

export async function startServerWithClient(args: string[]): Promise<Cluster> {
  const server = await startServerProcess(args);
  return { server, client: new ModulateClient({ url: server.url }) };
}

export interface CliRun {
  code: number | null;
  out: string;
  /** The last JSON line printed (a `--json` record), or empty. */
  record: Partial<JobResult>;
}

/** Runs `modulate COMMAND --url URL ARGS...`; --url goes first, since after `--` it is the script's. */
export async function runCli(url: string, command: string, ...args: string[]): Promise<CliRun> {
  const p = start(MODULATE, [command, "--url", url, ...args]);
  const code = await p.exited();
  const out = p.output();
  const json = out
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .pop();
  return { code, out, record: json === undefined ? {} : (JSON.parse(json) as Partial<JobResult>) };
}
