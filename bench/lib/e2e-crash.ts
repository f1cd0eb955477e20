// Phase 3: kill -9 a worker mid-job and time how long its peer takes to finish the job.
// Each repeat needs two live workers; the one killed is replaced before the next repeat.
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { fixtureSpec, type WorkerHandle } from "./e2e-cluster.ts";
import { QUEUE_TIMEOUT_MS } from "./e2e-latency.ts";
import { firstLine } from "./e2e-processes.ts";
import { round1 } from "./e2e-stats.ts";

/** The lease is 8 s and the script sleeps 3 s: a minute means the job was lost. */
const REDISPATCH_TIMEOUT_MS = 60_000;

export interface CrashRun {
  readonly jobId: string;
  /** kill -9 until the peer printed `start <id> attempt 2`: the re-dispatch itself. */
  readonly killToRestartMs: number;
  /** kill -9 until `waitForJob` returned attempt 2's result (includes the 3 s script). */
  readonly killToResultMs: number;
  readonly attempt: number;
}

export async function measureOneCrash(
  client: ModulateClient,
  group: string,
  workers: readonly [WorkerHandle, WorkerHandle],
): Promise<{ run: CrashRun; killed: WorkerHandle }> {
  const spec = fixtureSpec(group, "e2e-sleep.py", "wait");
  await client.submit(spec, QUEUE_TIMEOUT_MS);
  const id = spec.id.replace(/\./g, "\\.");
  const first = await firstLine(
    workers.map((w) => w.process),
    new RegExp(`^start ${id} attempt 1$`),
    REDISPATCH_TIMEOUT_MS,
  );
  const killed = workers.find((w) => w.process === first.from);
  const peer = workers.find((w) => w.process !== first.from);
  if (!killed || !peer) throw new Error("the job started on a worker the bench does not know");
  const restarted = firstLine(
    [peer.process],
    new RegExp(`^start ${id} attempt 2$`),
    REDISPATCH_TIMEOUT_MS,
  );
  const killedAt = performance.now();
  killed.process.kill("SIGKILL");
  const result = await client.waitForJob(spec.id);
  const returnedAt = performance.now();
  const restart = await restarted;
  await killed.process.exited();
  if (result.state !== "succeeded" || result.worker?.pid !== peer.workerPid) {
    throw new Error(`job ${spec.id} did not finish on the peer: ${JSON.stringify(result)}`);
  }
  return {
    killed,
    run: {
      jobId: spec.id,
      killToRestartMs: round1(restart.atMs - killedAt),
      killToResultMs: round1(returnedAt - killedAt),
      attempt: result.attempt,
    },
  };
}
