// A cluster of real processes for the chaos and soak runs: one server on a fixed port and
// data directory (so that it can be killed and restarted where it was), routers and workers,
// each of which can be killed with SIGKILL and started again. Runs are counted from the
// workers' side: every worker prints `start <job> attempt <n>` when a job's body starts, and
// the output of every process ever started is kept, killed ones included.
import { ModulateClient } from "../../src/orchestration/client.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import {
  freePort,
  jobSpec,
  startRouterProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import {
  MODULATE,
  start,
  startServerProcess,
  tempDir,
  type Spawned,
} from "../helpers/processes.ts";

export interface ChaosOptions {
  workers: number;
  slots: number;
  /** Extra options of every worker, e.g. a shorter lease. */
  workerArgs?: string[];
}

/** What one job's runs looked like from the workers' side. */
export interface RunCount {
  jobId: string;
  /**
   * Each start, in order: the worker process, when it started, and whether that process was
   * killed after it and before the next start (the one thing that may make a job run again).
   */
  starts: { worker: string; at: number; diedBeforeNext: boolean }[];
}

export interface ChaosFigures {
  jobs: number;
  accepted: number;
  kills: string[];
  /** Accepted jobs the server does not know, or that ended other than succeeded. */
  lost: string[];
  /** Accepted jobs not finished by the deadline. */
  stuck: string[];
  /** Runs beyond the first whose earlier run was on a worker that never died. */
  reruns: RunCount[];
  /** Runs beyond the first after a worker died: allowed. */
  forcedReruns: number;
  wallMs: number;
}

interface WorkerSlot {
  process: WorkerProcess;
  /** When it was killed, if it was. */
  killedAt: number | undefined;
  /** Each `start` line as it arrived. */
  starts: { jobId: string; attempt: number; at: number }[];
}

/** Calls `onLine` with each whole line `child` writes to stdout, as it arrives. */
function eachLine(process: WorkerProcess, onLine: (line: string) => void): void {
  let partial = "";
  process.child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
}

export class ChaosCluster {
  readonly url: string;
  readonly #port: number;
  readonly #dataDir: string;
  readonly #options: ChaosOptions;
  readonly #workDirs: string[] = [];
  readonly #workers: WorkerSlot[][] = [];
  #server: Spawned;
  #router: Spawned;
  readonly kills: string[] = [];

  private constructor(
    url: string,
    port: number,
    dataDir: string,
    server: Spawned,
    router: Spawned,
    options: ChaosOptions,
  ) {
    this.url = url;
    this.#port = port;
    this.#dataDir = dataDir;
    this.#server = server;
    this.#router = router;
    this.#options = options;
  }

  static async start(options: ChaosOptions): Promise<ChaosCluster> {
    const dataDir = tempDir();
    const port = await freePort();
    const server = await startServerProcess(["--data", dataDir, "--port", String(port)]);
    const router = await startRouterProcess(server.url);
    const cluster = new ChaosCluster(server.url, port, dataDir, server, router, options);
    for (let i = 0; i < options.workers; i++) {
      cluster.#workDirs.push(tempDir());
      cluster.#workers.push([]);
      await cluster.#startWorker(i);
    }
    return cluster;
  }

  async #startWorker(index: number): Promise<void> {
    const process = await startWorkerProcess(
      this.url,
      "g",
      this.#workDirs[index] ?? tempDir(),
      ["--slots", String(this.#options.slots), ...(this.#options.workerArgs ?? [])],
      // A worker started while the server is away waits for it.
      {},
    );
    const slot: WorkerSlot = { process, killedAt: undefined, starts: [] };
    // From here on (the worker has just said it is ready: no job has started yet).
    eachLine(process, (line) => {
      const match = /^start (\S+) attempt (\d+)$/.exec(line);
      if (match)
        slot.starts.push({ jobId: match[1] ?? "", attempt: Number(match[2]), at: Date.now() });
    });
    this.#workers[index]?.push(slot);
  }

  #current(index: number): WorkerSlot {
    const slot = this.#workers[index]?.at(-1);
    if (!slot) throw new Error(`no worker ${index}`);
    return slot;
  }

  async killWorker(index: number): Promise<void> {
    const slot = this.#current(index);
    slot.killedAt = Date.now();
    slot.process.kill("SIGKILL");
    await slot.process.exited();
    this.kills.push(`worker ${index}`);
  }

  async restartWorker(index: number): Promise<void> {
    await this.#startWorker(index);
  }

  async killRouter(): Promise<void> {
    this.#router.kill("SIGKILL");
    await this.#router.exited();
    this.kills.push("router");
  }

  async restartRouter(): Promise<void> {
    this.#router = await startRouterProcess(this.url);
  }

  async killServer(): Promise<void> {
    this.#server.kill("SIGKILL");
    await this.#server.exited();
    this.kills.push("server");
  }

  async restartServer(): Promise<void> {
    const server = start(MODULATE, [
      "server",
      "--data",
      this.#dataDir,
      "--port",
      String(this.#port),
    ]);
    await server.waitFor(/listening on /);
    this.#server = server;
  }

  /** Kills the server, the router and every worker at once, then starts them all again. */
  async killAll(): Promise<void> {
    const workers = this.#workers.map((_, i) => this.#current(i));
    for (const w of workers) w.killedAt = Date.now();
    const all = [this.#server, this.#router, ...workers.map((w) => w.process)];
    for (const p of all) p.kill("SIGKILL");
    await Promise.all(all.map((p) => p.exited()));
    this.kills.push("all");
  }

  async restartAll(): Promise<void> {
    await this.restartServer();
    await this.restartRouter();
    for (let i = 0; i < this.#workers.length; i++) await this.#startWorker(i);
  }

  /** Jobs whose body has finished on some worker (a `done` line), counted once each. */
  finishedJobs(): Set<string> {
    const done = new Set<string>();
    for (const slot of this.#workers.flat()) {
      for (const match of slot.process.output().matchAll(/^done (\S+) /gm)) {
        if (match[1]) done.add(match[1]);
      }
    }
    return done;
  }

  /** Jobs started on a worker that is still alive and not finished yet. */
  runningJobs(): string[] {
    const done = this.finishedJobs();
    return this.#workers
      .flat()
      .filter((slot) => slot.killedAt === undefined)
      .flatMap((slot) => slot.starts.map((s) => s.jobId))
      .filter((id) => !done.has(id));
  }

  /** Every start of every job, from every worker process ever started. */
  runCounts(): Map<string, RunCount> {
    const starts: { jobId: string; attempt: number; at: number; slot: WorkerSlot }[] = [];
    for (const slot of this.#workers.flat()) {
      for (const s of slot.starts) starts.push({ ...s, slot });
    }
    // Ordered by attempt number, which the attempt records hand out in order.
    starts.sort((a, b) => a.attempt - b.attempt);
    const byJob = new Map<string, typeof starts>();
    for (const s of starts) byJob.set(s.jobId, [...(byJob.get(s.jobId) ?? []), s]);
    const counts = new Map<string, RunCount>();
    for (const [jobId, runs] of byJob) {
      counts.set(jobId, {
        jobId,
        starts: runs.map((run, i) => {
          const next = runs[i + 1];
          const killedAt = run.slot.killedAt;
          return {
            worker: run.slot.process.workerPid,
            at: run.at,
            // Not also `killedAt >= run.at`: a process's last lines are read after its kill
            // is noted, so a job it started just before dying can look started after it.
            // A process that is dead starts nothing, so its kill before the next start is it.
            diedBeforeNext: next !== undefined && killedAt !== undefined && killedAt <= next.at,
          };
        }),
      });
    }
    return counts;
  }

  /** The workers' notes on answers that did not simply land (`answer <task>: ...`). */
  answerNotes(): string[] {
    return this.#workers
      .flat()
      .flatMap((slot) => slot.process.output().match(/^answer .*$/gm) ?? []);
  }

  /** Every worker process's output, for a failure's message. */
  workerOutputs(): string {
    return this.#workers
      .flat()
      .map(
        (slot) =>
          `--- ${slot.process.workerPid}${slot.killedAt === undefined ? "" : ` (killed at ${slot.killedAt})`}\n${slot.process.output()}`,
      )
      .join("\n");
  }
}

/** Submits until the server accepts (it may be down for a while): the same id every time. */
export async function submitUntilAccepted(
  client: ModulateClient,
  spec: JobSpec,
  deadlineAt: number,
): Promise<boolean> {
  for (;;) {
    try {
      await client.submit(spec, 10 * 60_000);
      return true;
    } catch {
      if (Date.now() > deadlineAt) return false;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Submits `specs`, `concurrency` at a time; resolves with the ids accepted. */
export async function submitAll(
  url: string,
  specs: JobSpec[],
  concurrency: number,
  deadlineAt: number,
): Promise<string[]> {
  const accepted: string[] = [];
  const queue = [...specs];
  const clients: ModulateClient[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = new ModulateClient({ url });
      clients.push(client);
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        if (await submitUntilAccepted(client, spec, deadlineAt)) accepted.push(spec.id);
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  return accepted;
}

/** Waits until the workers have finished every one of `ids`, or the deadline passes. */
export async function untilFinished(
  cluster: ChaosCluster,
  ids: string[],
  deadlineAt: number,
): Promise<void> {
  while (Date.now() < deadlineAt) {
    const done = cluster.finishedJobs();
    if (ids.every((id) => done.has(id))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Reads every accepted job's record from the server (waiting for each until the deadline)
 * and sorts the jobs into lost, stuck and re-run.
 */
export async function tally(
  cluster: ChaosCluster,
  specs: JobSpec[],
  accepted: string[],
  startedAt: number,
  deadlineAt: number,
): Promise<ChaosFigures> {
  const client = new ModulateClient({ url: cluster.url });
  const lost: string[] = [];
  const stuck: string[] = [];
  try {
    for (const id of accepted) {
      const wait = AbortSignal.timeout(Math.max(1, deadlineAt - Date.now()));
      try {
        const result = await client.waitForJob(id, "detach", wait);
        if (result.state !== "succeeded") lost.push(`${id}: ${result.state} ${result.reason}`);
      } catch (error) {
        if (wait.aborted) stuck.push(id);
        else lost.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await client.close();
  }
  const wallMs = Date.now() - startedAt;
  const counts = cluster.runCounts();
  const reruns: RunCount[] = [];
  let forcedReruns = 0;
  for (const count of counts.values()) {
    const earlier = count.starts.slice(0, -1);
    if (earlier.some((s) => !s.diedBeforeNext)) reruns.push(count);
    else forcedReruns += earlier.length;
  }
  return {
    jobs: specs.length,
    accepted: accepted.length,
    kills: [...cluster.kills],
    lost,
    stuck,
    reruns,
    forcedReruns,
    wallMs,
  };
}

/** Quick jobs for the soak and the chaos run. */
export function quickJobs(count: number, script = "quick.py", args: string[] = []): JobSpec[] {
  return Array.from({ length: count }, () => jobSpec(script, { args }));
}
