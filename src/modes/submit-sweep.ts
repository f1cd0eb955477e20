// `submit a.py b.py ...` and `submit x.py --array 0-49%8`: a sweep, one id for many jobs,
// submitted in one go; detached unless --wait, which shows a live progress line.
import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import type { JobSpec } from "../orchestration/jobs/job.ts";
import {
  MAX_SWEEP_JOBS,
  parseArray,
  sweepJobId,
  type SweepRecord,
} from "../orchestration/jobs/sweep.ts";
import { abortableSleep } from "../orchestration/wire/wire.ts";
import type { CliContext } from "./command.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";
import { progressLine } from "../orchestration/client/sweep-progress.ts";
import { sweepDetails } from "./sweep-format.ts";

/** What a sweep is asked to be, from the command line. */
export interface SweepRequest {
  id: string;
  group: string;
  scripts: readonly { name: string; content: string }[];
  /** `--array`, as given. */
  array: string | undefined;
  /** `--max-running`, if given (an array's `%N` says the same). */
  maxRunning: number | undefined;
  wait: boolean;
  json: boolean;
  queueTimeoutMs: number;
  submittedAt: number;
  /** Every field of a job's spec but its id, script, place and time. */
  base: Omit<JobSpec, "id" | "script" | "sweep" | "submittedAt" | "mode" | "group">;
}

type SweepClient = Pick<ModulateClient, "submitSweep" | "getSweep">;

/** How often `--wait` reads where the sweep stands. */
const PROGRESS_EVERY_MS = 1_000;

/** The sweep's record and its jobs' specs. Throws a UserError for a bad --array or cap. */
export function planSweep(req: SweepRequest): { record: SweepRecord; specs: JobSpec[] } {
  let maxRunning = req.maxRunning;
  if (maxRunning !== undefined && (!Number.isInteger(maxRunning) || maxRunning < 1))
    throw new UserError(`--max-running ${maxRunning} is not a positive whole number`);
  let indices: number[] | undefined;
  if (req.array !== undefined) {
    if (req.scripts.length !== 1)
      throw new UserError(
        `--array runs one script many times, and ${req.scripts.length} were given: give one script, or drop --array to run each script once`,
      );
    try {
      const parsed = parseArray(req.array);
      indices = parsed.indices;
      maxRunning = maxRunning ?? parsed.maxRunning;
    } catch (error) {
      throw new UserError(error instanceof Error ? error.message : String(error));
    }
  }
  const count = indices ? indices.length : req.scripts.length;
  if (count > MAX_SWEEP_JOBS)
    throw new UserError(
      `a sweep of ${count} jobs is over the limit of ${MAX_SWEEP_JOBS}: split it into several`,
    );
  const record: SweepRecord = {
    kind: "modulate.sweep",
    id: req.id,
    group: req.group,
    count,
    scripts: req.scripts.map((s) => s.name),
    ...(indices ? { array: indices } : {}),
    ...(maxRunning === undefined ? {} : { maxRunning }),
    submittedAt: req.submittedAt,
  };
  const specs = Array.from({ length: count }, (_, at): JobSpec => {
    const index = at + 1;
    const script = req.scripts[indices ? 0 : at] ?? { name: "?", content: "" };
    const arrayIndex = indices?.[at];
    return {
      ...req.base,
      id: sweepJobId(req.id, index),
      group: req.group,
      script,
      mode: "detach",
      submittedAt: req.submittedAt,
      sweep: {
        id: req.id,
        index,
        count,
        ...(maxRunning === undefined ? {} : { maxRunning }),
        ...(arrayIndex === undefined ? {} : { arrayIndex }),
      },
    };
  });
  return { record, specs };
}

export async function runSubmitSweep(
  req: SweepRequest,
  client: SweepClient,
  ctx: CliContext,
): Promise<number> {
  const { record, specs } = planSweep(req);
  const submitted = await unlessStopped(
    client.submitSweep(record, specs, req.queueTimeoutMs),
    ctx.signal,
  );
  if (submitted === STOPPED) {
    ctx.stderr.write(
      `modulate: stopped while submitting; 'modulate get ${record.id}' tells which jobs of sweep ${record.id} exist\n`,
    );
    return stoppedExitCode(ctx.signal);
  }
  const existing = submitted.filter((s) => s.existing).length;
  if (existing > 0)
    ctx.stderr.write(
      `modulate: ${existing} of the sweep's jobs existed already: those are the jobs submitted before, not new ones\n`,
    );
  if (!req.wait) {
    ctx.stdout.write(
      req.json
        ? `${JSON.stringify({ id: record.id, jobs: submitted.map((s) => s.id) })}\n`
        : `${record.id}\n`,
    );
    return ExitCode.ok;
  }
  ctx.stderr.write(
    `modulate: sweep ${record.id}: ${record.count} jobs queued on ${record.group} (${record.id}.1 .. ${record.id}.${record.count})\n`,
  );
  const view = await waitForSweep(client, record.id, ctx);
  if (view === STOPPED) {
    ctx.stderr.write(
      `modulate: stopped waiting; sweep ${record.id} goes on: 'modulate get ${record.id} --wait' follows it\n`,
    );
    return stoppedExitCode(ctx.signal);
  }
  ctx.stdout.write(req.json ? `${JSON.stringify(view)}\n` : sweepDetails(view));
  return sweepExitCode(view);
}

/** 0 when every job succeeded, else 1. */
export function sweepExitCode(view: SweepView): number {
  return view.progress.done === view.record.count ? ExitCode.ok : 1;
}

/**
 * Reads where the sweep stands until every job has ended, with a live progress line on stderr:
 * rewritten in place on a terminal, a line each time it changes otherwise.
 */
export async function waitForSweep(
  client: Pick<SweepClient, "getSweep">,
  id: string,
  ctx: CliContext,
  isTerminal: boolean = process.stderr.isTTY,
): Promise<SweepView | typeof STOPPED> {
  let shown = "";
  for (;;) {
    const view = await unlessStopped(client.getSweep(id), ctx.signal);
    if (view === STOPPED) return STOPPED;
    if (!view) throw new UserError(`no such sweep: ${id}`, ExitCode.notFound);
    const line = `sweep ${id}: ${progressLine(view)}`;
    if (line !== shown) {
      ctx.stderr.write(isTerminal ? `\r\u001B[2K${line}` : `${line}\n`);
      shown = line;
    }
    if (view.finished) {
      if (isTerminal) ctx.stderr.write("\n");
      return view;
    }
    await abortableSleep(PROGRESS_EVERY_MS, ctx.signal);
    if (ctx.signal.aborted) return STOPPED;
  }
}
