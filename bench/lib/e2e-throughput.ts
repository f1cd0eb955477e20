// Phase 2: detached trivial jobs submitted as fast as one long-lived client can, measured
// from the first submission until every job has its result.
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { fixtureSpec } from "./e2e-cluster.ts";
import { QUEUE_TIMEOUT_MS } from "./e2e-latency.ts";
import { round1 } from "./e2e-stats.ts";

/**
 * Submissions in flight at once. One client, as the brief asks; a bounded window keeps the
 * client from queueing hundreds of sockets while still filling every commit the server makes.
 */
const SUBMIT_WINDOW = 32;

export interface Throughput {
  readonly jobs: number;
  /** First submission to the last result. */
  readonly wallMs: number;
  readonly jobsPerSec: number;
  /** First submission until all were durable: the rate the client alone reaches. */
  readonly submitAllMs: number;
  /** Jobs each worker ran, by worker id. */
  readonly byWorker: Record<string, number>;
}

export async function measureThroughput(
  client: ModulateClient,
  group: string,
  jobs: number,
): Promise<Throughput> {
  const specs = Array.from({ length: jobs }, () => fixtureSpec(group, "e2e-trivial.py", "detach"));
  const results: Promise<{ state: string; stdout: string; worker: { pid: string } | null }>[] = [];
  const started = performance.now();
  let next = 0;
  const submitter = async (): Promise<void> => {
    for (let i = next++; i < specs.length; i = next++) {
      const spec = specs[i];
      if (!spec) continue;
      await client.submit(spec, QUEUE_TIMEOUT_MS);
      // Waiting starts at once: a result that comes early is counted when it comes.
      results.push(client.waitForJob(spec.id, spec.mode));
    }
  };
  await Promise.all(Array.from({ length: SUBMIT_WINDOW }, submitter));
  const submitAllMs = performance.now() - started;
  const finished = await Promise.all(results);
  const wallMs = performance.now() - started;
  const byWorker: Record<string, number> = {};
  for (const result of finished) {
    if (result.state !== "succeeded" || result.stdout !== "1\n") {
      throw new Error(`a detached trivial job did not print 1: ${JSON.stringify(result)}`);
    }
    const worker = result.worker?.pid ?? "unknown";
    byWorker[worker] = (byWorker[worker] ?? 0) + 1;
  }
  return {
    jobs,
    wallMs: round1(wallMs),
    jobsPerSec: round1((jobs / wallMs) * 1000),
    submitAllMs: round1(submitAllMs),
    byWorker,
  };
}
