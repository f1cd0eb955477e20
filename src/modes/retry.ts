// `modulate retry`: resubmits jobs that ended as new jobs. `retry ID...` reruns those jobs;
// `retry SWEEP --failed` reruns each job of the sweep that did not succeed. A sweep's job `S.3`
// comes back as `S.3-r2`, a job of the same sweep, which `get SWEEP` then counts in its place.
// (A job's own --retries, run again by its worker, is another thing.)
import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { hasEnded, retrySpec, type SweepView } from "../orchestration/client/sweep.ts";
import type { JobSpec } from "../orchestration/jobs/job.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type Clock, type OpenClient } from "./deps.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

const options = {
  ...connectionOptions,
  failed: {
    type: "boolean",
    default: false,
    describe: "For a sweep: rerun every job of it that failed, timed out or was canceled",
  },
  json: { type: "boolean", default: false, describe: "Print the new jobs' ids as a JSON array" },
} as const;

export const retryCommand = defineCommand({
  command: "retry [ids..]",
  describe: "Resubmit ended jobs as new jobs (retry SWEEP --failed: a sweep's failed ones)",
  options,
  epilogue:
    "A sweep's job S.3 is resubmitted as S.3-r2 (then S.3-r3), a job of the same sweep; another job X as X-r2. Prints the new ids. A job still running or queued is left as it is. An id the server does not hold exits 4.",
  run: (args, ctx) =>
    runRetry({ ...args, ids: idsOf(args["ids"]) }, ctx, { openClient: openModulateClient }),
});

export type RetryArgs = ModeArgs<typeof options> & { ids: readonly string[] };

export interface RetryDeps {
  readonly openClient: OpenClient<Pick<ModulateClient, "getJob" | "getSweep" | "submit" | "close">>;
  readonly clock?: Clock;
}

function idsOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

type RetryClient = Pick<ModulateClient, "getJob" | "getSweep" | "submit">;

/** The jobs to rerun, with the retry number each last had. */
async function chosen(
  client: RetryClient,
  id: string,
  failed: boolean,
  ctx: CliContext,
): Promise<{ spec: JobSpec; lastRetry: number }[]> {
  const sweep = id.includes(".") ? undefined : await client.getSweep(id).catch(() => undefined);
  if (sweep) {
    if (!failed)
      throw new UserError(
        `${id} is a sweep: 'modulate retry ${id} --failed' reruns its failed jobs (or name the jobs: modulate retry ${id}.3)`,
      );
    const jobs = sweep.jobs.filter((job) => hasEnded(job.stage) && job.stage !== "succeeded");
    if (jobs.length === 0)
      ctx.stderr.write(`modulate: no job of sweep ${id} failed: nothing to retry\n`);
    return Promise.all(
      jobs.map(async (job) => ({ spec: (await client.getJob(job.id)).spec, lastRetry: job.retry })),
    );
  }
  const view = await client.getJob(id);
  if (!view.finished) {
    ctx.stderr.write(`modulate: ${id} has not ended (${view.result.state}): left as it is\n`);
    return [];
  }
  let lastRetry = view.spec.sweep?.retry ?? retryOfId(id);
  const member = view.spec.sweep;
  if (member) {
    const of: SweepView | undefined = await client.getSweep(member.id).catch(() => undefined);
    lastRetry = of?.jobs.find((job) => job.index === member.index)?.retry ?? lastRetry;
  }
  return [{ spec: view.spec, lastRetry }];
}

/** The retry number a plain job's id says (`X-r3` is 3), else 1. */
function retryOfId(id: string): number {
  const match = /-r(\d+)$/.exec(id);
  return match ? Number(match[1]) : 1;
}

export async function runRetry(args: RetryArgs, ctx: CliContext, deps: RetryDeps): Promise<number> {
  if (args.ids.length === 0)
    throw new UserError(
      "name what to retry: modulate retry ID... (jobs), or modulate retry SWEEP --failed",
    );
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    const work = (async () => {
      const now = (deps.clock ?? Date.now)();
      const picked = (
        await Promise.all(args.ids.map((id) => chosen(client, id, args.failed, ctx)))
      ).flat();
      return Promise.all(
        picked.map(async ({ spec, lastRetry }) => {
          const again = retrySpec(spec, lastRetry, now);
          await client.submit(again, again.queueTimeoutMs ?? 24 * 60 * 60 * 1000);
          return again.id;
        }),
      );
    })();
    const ids = await unlessStopped(work, ctx.signal);
    if (ids === STOPPED) return stoppedExitCode(ctx.signal);
    ctx.stdout.write(args.json ? `${JSON.stringify(ids)}\n` : ids.map((id) => `${id}\n`).join(""));
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}
