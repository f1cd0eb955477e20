// Phase 1: how long a waiting submission of a trivial script takes, from a long-lived client
// and from a fresh CLI process, beside what starting python and node costs on their own.
import { spawn } from "node:child_process";
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { fixtureSpec } from "./e2e-cluster.ts";
import { processCpu } from "./e2e-cpu.ts";
import { medians, round1, summarize, type Summary } from "./e2e-stats.ts";

/** Generous: a job that waits this long for a worker is a broken cluster, not a slow one. */
export const QUEUE_TIMEOUT_MS = 5 * 60_000;

/** Where the time of one waiting submission goes, from timestamps the record carries. */
export interface Hops {
  /** `submit` until it returned: the root promise durable on the server. */
  durableMs: number;
  /** Durable until the worker started the attempt: router picked it up, execute promise, task. */
  toWorkerMs: number;
  /** On the worker: attempt record claimed, sandbox set up, python run, torn down. */
  onWorkerMs: number;
  /** Of which the sandbox's own run (`durationMs`): cgroup, bwrap, python, output. */
  sandboxMs: number;
  /** Worker finished until `waitForJob` returned: fulfil, router resumes, root resolved, client woken. */
  backMs: number;
}

export interface ClientLatency extends Summary {
  readonly warmups: number;
  /** Median of each hop; they add up to about the median total. */
  readonly hopMediansMs: Hops;
  /**
   * The baseline command (python alone) run once before each submission, from the same idle
   * state: the overhead is then not a difference between two moments of a machine whose
   * speed drifts, nor one between an idle machine and one still busy with the last job.
   */
  readonly baselineBeside: Summary & { readonly command: string };
}

/** A command run alone beside each submission, as the baseline its overhead is taken over. */
export interface Baseline {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * The pause before each submission and before each python run beside it, so that both are
 * timed from the same idle state, as a person's submission meets the cluster: the difference
 * is then modulate's alone. Submissions back to back are measured too (`measureBackToBack`).
 */
const SETTLE_MS = 100;

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

interface TimedSubmission {
  readonly totalMs: number;
  readonly hops: Hops;
}

/** One waiting submission of the trivial fixture, checked, with where its time went. */
async function timeOneSubmission(client: ModulateClient, group: string): Promise<TimedSubmission> {
  const spec = fixtureSpec(group, "e2e-trivial.py", "wait");
  const started = performance.now();
  const submittedAt = Date.now();
  await client.submit(spec, QUEUE_TIMEOUT_MS);
  const durableAt = Date.now();
  const result = await client.waitForJob(spec.id);
  const returnedAt = Date.now();
  const totalMs = performance.now() - started;
  if (result.state !== "succeeded" || result.stdout !== "1\n") {
    throw new Error(`trivial job ${spec.id} did not print 1: ${JSON.stringify(result)}`);
  }
  const startedAt = result.startedAt ?? Number.NaN;
  const finishedAt = result.finishedAt ?? Number.NaN;
  return {
    totalMs,
    hops: {
      durableMs: durableAt - submittedAt,
      toWorkerMs: startedAt - durableAt,
      onWorkerMs: finishedAt - startedAt,
      sandboxMs: result.durationMs,
      backMs: returnedAt - finishedAt,
    },
  };
}

export async function measureClientLatency(
  client: ModulateClient,
  group: string,
  warmups: number,
  runs: number,
  baseline: Baseline,
): Promise<ClientLatency> {
  const totalsMs: number[] = [];
  const baselineMs: number[] = [];
  const hops: Hops[] = [];
  for (let run = 0; run < warmups + runs; run += 1) {
    await settle();
    const alone = await timeOneSpawn(baseline.file, baseline.args);
    if (alone.code !== 0) {
      throw new Error(`${baseline.file} exited ${String(alone.code)}: ${alone.stderr}`);
    }
    await settle();
    const submission = await timeOneSubmission(client, group);
    if (run < warmups) continue;
    totalsMs.push(submission.totalMs);
    baselineMs.push(alone.ms);
    hops.push(submission.hops);
  }
  return {
    ...summarize(totalsMs),
    warmups,
    hopMediansMs: medians(hops),
    baselineBeside: {
      command: [baseline.file, ...baseline.args].join(" "),
      ...summarize(baselineMs),
    },
  };
}

/**
 * The same submissions one right after another, as a driver script making RPC calls in a loop
 * would: each meets the last job's teardown and its worker's next standby. For information;
 * the bar is judged on submissions from an idle cluster.
 */
export async function measureBackToBack(
  client: ModulateClient,
  group: string,
  warmups: number,
  runs: number,
): Promise<Summary> {
  const totalsMs: number[] = [];
  for (let run = 0; run < warmups + runs; run += 1) {
    const { totalMs } = await timeOneSubmission(client, group);
    if (run >= warmups) totalsMs.push(totalMs);
  }
  return summarize(totalsMs);
}

export interface SpawnLatency extends Summary {
  readonly command: string;
  readonly warmups: number;
  /** CPU of one run, from the bench's reaped-children time (RUSAGE_CHILDREN). */
  readonly cpuPerRunMs: number;
}

interface SpawnedRun {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawn to close of its output: what a user at a shell waits for. */
function timeOneSpawn(file: string, args: readonly string[]): Promise<SpawnedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ ms: performance.now() - started, code, stdout, stderr }),
    );
  });
}

/**
 * Runs `file args` `warmups + runs` times, one after another, and checks each with
 * `expectStdout`. Nothing else of the bench's may run meanwhile: its children's CPU is read
 * from the bench's own accounting.
 */
export async function measureSpawns(
  file: string,
  args: readonly string[],
  warmups: number,
  runs: number,
  expectStdout: string,
): Promise<SpawnLatency> {
  const command = [file, ...args].join(" ");
  const samplesMs: number[] = [];
  let cpuBeforeMs = 0;
  for (let run = 0; run < warmups + runs; run += 1) {
    if (run === warmups) cpuBeforeMs = processCpu("self")?.childrenMs ?? Number.NaN;
    const result = await timeOneSpawn(file, args);
    if (result.code !== 0 || result.stdout !== expectStdout) {
      throw new Error(
        `${command} exited ${String(result.code)} with stdout ${JSON.stringify(result.stdout)} (expected ${JSON.stringify(expectStdout)}): ${result.stderr}`,
      );
    }
    if (run >= warmups) samplesMs.push(result.ms);
  }
  const cpuAfterMs = processCpu("self")?.childrenMs ?? Number.NaN;
  return {
    command,
    warmups,
    ...summarize(samplesMs),
    cpuPerRunMs: round1((cpuAfterMs - cpuBeforeMs) / runs),
  };
}
