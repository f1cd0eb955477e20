// `modulate ls`: which jobs are where, as Slurm's squeue lists the queue (and with --all, as
// sacct lists history): newest first, each with its group, state, worker, age and, for a job
// that waits, why. Read from the jobs' promises (orchestration/client/list.ts).
import { ExitCode, UserError } from "../common/errors.ts";
import { formatDuration, parseDurationMs } from "../common/units.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import {
  STATE_FILTERS,
  type ListedJob,
  type ListFilter,
  type StateFilter,
} from "../orchestration/client/list.ts";
import { groupNameProblem } from "../orchestration/jobs/names.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { alignedTable } from "./aligned-table.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import { sweepsTable } from "./sweep-format.ts";

/** Shown when --limit is not given: a screenful; --limit asks for more. */
export const DEFAULT_LIST_LIMIT = 100;

const options = {
  ...connectionOptions,
  group: { type: "string", describe: "Only jobs of this group" },
  state: {
    type: "string",
    describe: `Only jobs in this state: ${STATE_FILTERS.join(", ")} (pending: routing or queued)`,
  },
  all: {
    type: "boolean",
    default: false,
    describe: "Finished jobs too, with exit code and duration (as sacct)",
  },
  since: { type: "string", describe: "Only jobs submitted within this long, e.g. 2h or 30m" },
  limit: {
    type: "number",
    default: DEFAULT_LIST_LIMIT,
    describe: "At most this many jobs, the newest",
  },
  json: { type: "boolean", default: false, describe: "Print the jobs as one JSON array" },
  sweeps: {
    type: "boolean",
    default: false,
    describe: "Only sweeps, each with its progress (with --json, as one JSON array)",
  },
} as const;

export const lsCommand = defineCommand({
  command: "ls",
  describe: "List outstanding jobs, newest first, with why each waiting one waits (--all: history)",
  options,
  epilogue:
    "STATE is routing (no router has taken it yet), queued (waiting for a worker of its group), running, or how it ended. REASON says why a job waits: the jobs it waits for (submit --after), no live worker in its group, all its slots busy, queued behind earlier jobs, or its queue timeout. --json prints the result records get --json prints, with the script and its STATE as stage.",
  run: (args, ctx) => runLs(args, ctx, { openClient: openModulateClient }),
});

export type LsArgs = ModeArgs<typeof options>;

/** What `ls` does to the world, handed in: tests give a client of their own server. */
export interface LsDeps {
  readonly openClient: OpenClient<Pick<ModulateClient, "list" | "listSweeps" | "close">>;
  readonly clock?: () => number;
}

const NONE = "-";

type Column = readonly [string, (job: ListedJob, now: number) => string];

const LEADING: readonly Column[] = [
  ["ID", (j) => j.id],
  ["GROUP", (j) => j.group],
  ["SCRIPT", (j) => j.script],
  ["STATE", (j) => j.stage],
  ["WORKER", (j) => j.worker?.pid ?? NONE],
  ["ATTEMPT", (j) => (j.attempt > 0 ? String(j.attempt) : NONE)],
  ["AGE", (j, now) => formatDuration(Math.max(0, now - j.submittedAt))],
];

const HISTORY: readonly Column[] = [
  ["EXIT", (j) => (j.exitCode === null ? NONE : String(j.exitCode))],
  ["DURATION", (j) => (j.finishedAt === null ? NONE : formatDuration(j.durationMs))],
];

const REASON: Column = ["REASON", (j) => (j.stage === "succeeded" ? "" : j.reason)];

/** The jobs as an aligned table with a header line, in the order given; `all` adds history. */
export function jobsTable(jobs: readonly ListedJob[], now: number, all: boolean): string {
  const columns = [...LEADING, ...(all ? HISTORY : []), REASON];
  const rows = [
    columns.map(([title]) => title),
    ...jobs.map((job) => columns.map(([, cell]) => cell(job, now))),
  ];
  return alignedTable(rows);
}

/** The one line an empty answer gets, saying what was looked for. */
export function noJobsLine(filter: ListFilter): string {
  const narrowed = [
    filter.group === undefined ? undefined : `in group ${filter.group}`,
    filter.state === undefined ? undefined : `in state ${filter.state}`,
    filter.sinceMs === undefined
      ? undefined
      : `submitted in the last ${formatDuration(filter.sinceMs)}`,
  ].filter((part) => part !== undefined);
  const what = filter.all ? "no jobs" : "no outstanding jobs";
  const hint = filter.all ? "" : " (modulate ls --all lists finished ones too)";
  return `${[what, ...narrowed].join(" ")}${hint}\n`;
}

/** The filter the options ask for, or a one-line error naming the option. */
export function listFilter(args: LsArgs): ListFilter {
  if (args.group !== undefined) {
    const problem = groupNameProblem(args.group);
    if (problem) throw new UserError(`--group ${problem}`);
  }
  const state = args.state;
  if (state !== undefined && !(STATE_FILTERS as readonly string[]).includes(state)) {
    throw new UserError(
      `--state "${state}" is not a state: use one of ${STATE_FILTERS.join(", ")}`,
    );
  }
  if (!Number.isInteger(args.limit) || args.limit < 1) {
    // yargs reads a word such as "abc" as NaN: name the flag, not "NaN".
    const given = Number.isNaN(args.limit) ? "" : ` ${args.limit}`;
    throw new UserError(`--limit${given} is not a count: use a whole number of 1 or more`);
  }
  // A finished state asks for history: `--state failed` without --all would list nothing.
  const finishedState = state !== undefined && !["pending", "queued", "running"].includes(state);
  return {
    all: args.all || finishedState,
    limit: args.limit,
    ...(args.group === undefined ? {} : { group: args.group }),
    ...(state === undefined ? {} : { state: state as StateFilter }),
    ...(args.since === undefined ? {} : { sinceMs: parseDurationMs(args.since, "--since") }),
  };
}

export async function runLs(args: LsArgs, ctx: CliContext, deps: LsDeps): Promise<number> {
  const filter = listFilter(args);
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const client = await deps.openClient(connection);
  try {
    const now = (deps.clock ?? Date.now)();
    if (args.sweeps) return await listSweepsOnly(client, filter, args.json, now, ctx);
    // Sweeps are shown above the jobs, beside which they are read; never in --json's array.
    const sweeps = args.json ? Promise.resolve([]) : sweepsOf(client, filter);
    const found = await unlessStopped(client.list(filter), ctx.signal);
    if (found === STOPPED) return stoppedExitCode(ctx.signal);
    const shownSweeps = await sweeps;
    if (shownSweeps.length > 0) ctx.stdout.write(`${sweepsTable(shownSweeps, now)}\n`);
    if (args.json) ctx.stdout.write(`${JSON.stringify(found.jobs)}\n`);
    else
      ctx.stdout.write(
        found.jobs.length === 0 ? noJobsLine(filter) : jobsTable(found.jobs, now, filter.all),
      );
    if (found.olderMayMatch) {
      // The newest were found without reading every job: how many older match is not known.
      ctx.stderr.write(
        `modulate: the newest ${found.jobs.length} shown; older jobs may match too: a larger --limit lists them\n`,
      );
    } else if (found.more > 0) {
      ctx.stderr.write(
        `modulate: ${found.more} more job${found.more === 1 ? "" : "s"} matched: --limit ${filter.limit + found.more} lists them all\n`,
      );
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

/** The sweeps `filter` lets through (its group, and finished ones only with --all). */
async function sweepsOf(
  client: Pick<ModulateClient, "listSweeps">,
  filter: ListFilter,
): Promise<SweepView[]> {
  // A server that refuses the search (a token's prefix) still lists its jobs.
  const sweeps = await client.listSweeps(filter.all).catch(() => []);
  return sweeps.filter((view) => filter.group === undefined || view.record.group === filter.group);
}

async function listSweepsOnly(
  client: Pick<ModulateClient, "listSweeps">,
  filter: ListFilter,
  json: boolean,
  now: number,
  ctx: CliContext,
): Promise<number> {
  const found = await unlessStopped(client.listSweeps(filter.all), ctx.signal);
  if (found === STOPPED) return stoppedExitCode(ctx.signal);
  const sweeps = found.filter(
    (view) => filter.group === undefined || view.record.group === filter.group,
  );
  if (json) ctx.stdout.write(`${JSON.stringify(sweeps)}\n`);
  else if (sweeps.length === 0)
    ctx.stdout.write(
      filter.all
        ? "no sweeps\n"
        : "no outstanding sweeps (modulate ls --sweeps --all lists finished ones too)\n",
    );
  else ctx.stdout.write(sweepsTable(sweeps, now));
  return ExitCode.ok;
}
