// `modulate stats`: the cluster's jobs summed up per group, as sacct's reports do: how many
// ended each way, with the median and 95th percentile of their queue wait and run time. Read
// from the jobs' records by search (orchestration/client/list.ts and stats.ts).
import { ExitCode, UserError } from "../common/errors.ts";
import { formatDuration, parseDurationMs } from "../common/units.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import type { ListedStage } from "../orchestration/client/list.ts";
import {
  summarizeJobs,
  type GroupStats,
  type Percentiles,
  type StatsReport,
} from "../orchestration/client/stats.ts";
import { groupNameProblem } from "../orchestration/jobs/names.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { alignedTable } from "./aligned-table.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

const options = {
  ...connectionOptions,
  since: {
    type: "string",
    default: "24h",
    describe:
      "Only jobs submitted within this long, e.g. 1h or 7d; all: every job the server keeps",
  },
  group: { type: "string", describe: "Only jobs of this group" },
  json: { type: "boolean", default: false, describe: "Print the report as one JSON object" },
} as const;

export const statsCommand = defineCommand({
  command: "stats",
  describe: "Sum up the cluster's jobs per group: how many ended each way, queue wait and run time",
  options,
  epilogue:
    "QUEUE is the time from submission to the start of the attempt that ran the job; RUN is the script's run time. p50 is the median, p95 the 95th percentile (nearest rank). OUTSTANDING counts jobs routing, queued or running.",
  run: (args, ctx) => runStats(args, ctx, { openClient: openModulateClient }),
});

export type StatsArgs = ModeArgs<typeof options>;

export interface StatsDeps {
  readonly openClient: OpenClient<Pick<ModulateClient, "list" | "close">>;
  readonly clock?: () => number;
}

const OUTCOMES: readonly ListedStage[] = ["succeeded", "failed", "timed_out", "canceled"];
const OUTSTANDING: readonly ListedStage[] = ["routing", "queued", "running"];

function sinceMsOf(text: string): number | undefined {
  return text.trim() === "all" ? undefined : parseDurationMs(text, "--since");
}

function ms(value: number | null): string {
  return value === null ? "-" : formatDuration(value);
}

function row(stats: GroupStats): string[] {
  const count = (stage: ListedStage): number => stats.byStage[stage] ?? 0;
  const pair = (p: Percentiles): string[] => [ms(p.p50Ms), ms(p.p95Ms)];
  return [
    stats.group,
    String(stats.jobs),
    ...OUTCOMES.map((stage) => String(count(stage))),
    String(OUTSTANDING.reduce((sum, stage) => sum + count(stage), 0)),
    ...pair(stats.queueWait),
    ...pair(stats.runTime),
  ];
}

/** The report as the aligned table the terminal shows: one line a group, then the total. */
export function statsTable(report: StatsReport): string {
  const header = [
    "GROUP",
    "JOBS",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "CANCELED",
    "OUTSTANDING",
    "QUEUE_P50",
    "QUEUE_P95",
    "RUN_P50",
    "RUN_P95",
  ];
  const total = report.groups.length > 1 ? [row({ ...report.total, group: "all" })] : [];
  return alignedTable([header, ...report.groups.map(row), ...total]);
}

export async function runStats(args: StatsArgs, ctx: CliContext, deps: StatsDeps): Promise<number> {
  if (args.group !== undefined) {
    const problem = groupNameProblem(args.group);
    if (problem) throw new UserError(`--group ${problem}`);
  }
  const sinceMs = sinceMsOf(args.since);
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const client = await deps.openClient(connection);
  try {
    const found = await unlessStopped(
      client.list({
        all: true,
        limit: Number.MAX_SAFE_INTEGER,
        ...(sinceMs === undefined ? {} : { sinceMs }),
        ...(args.group === undefined ? {} : { group: args.group }),
      }),
      ctx.signal,
    );
    if (found === STOPPED) return stoppedExitCode(ctx.signal);
    const report = summarizeJobs(found.jobs, (deps.clock ?? Date.now)(), sinceMs);
    if (args.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
    else if (report.groups.length === 0) {
      const within =
        sinceMs === undefined ? "" : ` submitted in the last ${formatDuration(sinceMs)}`;
      const inGroup = args.group === undefined ? "" : ` in group ${args.group}`;
      ctx.stdout.write(
        `no jobs${inGroup}${within} (--since all counts every job the server keeps)\n`,
      );
    } else ctx.stdout.write(statsTable(report));
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}
