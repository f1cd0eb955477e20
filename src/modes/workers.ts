// `modulate workers`: each group's live workers, as Slurm's sinfo lists nodes. Read from the
// workers' presence leases (orchestration/presence.ts): a worker that dies drops out once its
// lease lapses.
import { ExitCode, UserError } from "../common/errors.ts";
import { formatDuration } from "../common/units.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { groupNameProblem } from "../orchestration/jobs/names.ts";
import type { WorkerView } from "../orchestration/presence.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { alignedTable } from "./aligned-table.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

const options = {
  ...connectionOptions,
  group: { type: "string", describe: "Only the workers of this group" },
  json: { type: "boolean", default: false, describe: "Print the workers as one JSON array" },
} as const;

export const workersCommand = defineCommand({
  command: "workers",
  describe:
    "List each group's live workers: slots, GPUs, interpreters, sandbox, version, the jobs they run",
  options,
  epilogue:
    "A worker shows while it holds its presence lease (its --lease): one that dies drops out within that time, and LAST-SEEN says that bound. GPUS, INTERPRETERS (the names its --interpreter declares), SANDBOX and VERSION read '-' for a worker too old to announce them.",
  run: (args, ctx) => runWorkers(args, ctx, { openClient: openModulateClient }),
});

export type WorkersArgs = ModeArgs<typeof options>;

/** What `workers` does to the world, handed in: tests give a client of their own server. */
export interface WorkersDeps {
  readonly openClient: OpenClient<Pick<ModulateClient, "workers" | "close">>;
}

const UNKNOWN = "-";

/** The table's columns, each with how a worker's cell reads. */
const COLUMNS: readonly (readonly [string, (worker: WorkerView) => string])[] = [
  ["GROUP", (w) => w.group],
  ["HOST", (w) => w.host],
  ["PID", (w) => w.pid],
  ["SLOTS", (w) => `${w.busy}/${w.slots}`],
  ["GPUS", (w) => (w.gpus === undefined ? UNKNOWN : w.gpus.join(",") || "none")],
  [
    "INTERPRETERS",
    (w) => (w.interpreters === undefined ? UNKNOWN : w.interpreters.join(",") || "none"),
  ],
  ["SANDBOX", (w) => (w.sandbox === undefined ? UNKNOWN : sandboxCell(w.sandbox, w.warmPython))],
  ["VERSION", (w) => w.version ?? UNKNOWN],
  ["JOBS", (w) => (w.jobs.length === 0 ? UNKNOWN : w.jobs.join(","))],
  ["LAST-SEEN", (w) => (w.leaseMs === undefined ? UNKNOWN : `<${formatDuration(w.leaseMs)} ago`)],
];

/** The sandbox mode, and whether python jobs start warm there (README: A warm python). */
function sandboxCell(sandbox: string, warmPython: boolean | undefined): string {
  return warmPython ? `${sandbox}+warm-python` : sandbox;
}

/** By group, then host and pid: a group's workers sit together. */
export function sortWorkers(workers: readonly WorkerView[]): WorkerView[] {
  const key = (w: WorkerView): string => `${w.group}\u0000${w.host}\u0000${w.pid}`;
  return [...workers].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The workers as an aligned table with a header line, grouped by group. */
export function workersTable(workers: readonly WorkerView[]): string {
  const rows = [
    COLUMNS.map(([title]) => title),
    ...sortWorkers(workers).map((w) => COLUMNS.map(([, cell]) => cell(w))),
  ];
  return alignedTable(rows);
}

/** The one line an empty answer gets: none alive, and how to start one. */
export function noWorkersLine(group: string | undefined, url: string): string {
  const where = group === undefined ? "" : ` in group ${group}`;
  return `no live workers${where}: start one with modulate worker --group ${group ?? "GROUP"} --url ${url}\n`;
}

export async function runWorkers(
  args: WorkersArgs,
  ctx: CliContext,
  deps: WorkersDeps,
): Promise<number> {
  if (args.group !== undefined) {
    const problem = groupNameProblem(args.group);
    if (problem) throw new UserError(`--group ${problem}`);
  }
  const connection = resolveConnection(args.url, args.token, ctx.env);
  const client = await deps.openClient(connection);
  try {
    const found = await unlessStopped(client.workers(), ctx.signal);
    if (found === STOPPED) return stoppedExitCode(ctx.signal);
    const workers = sortWorkers(
      args.group === undefined ? found : found.filter((w) => w.group === args.group),
    );
    if (args.json) ctx.stdout.write(`${JSON.stringify(workers)}\n`);
    else
      ctx.stdout.write(
        workers.length === 0 ? noWorkersLine(args.group, connection.url) : workersTable(workers),
      );
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}
