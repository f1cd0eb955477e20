// `modulate cancel`: ends jobs, as scancel does. Named by id, or chosen by group and state (as
// `ls` lists them) after a y/N on a terminal. A running job's processes are killed by its
// worker; a waiting one never starts; one that has ended stays as it is (orchestration/client/
// cancel.ts says how, through the protocol alone).
import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import type { CancelOutcome } from "../orchestration/client/cancel.ts";
import type { ListFilter } from "../orchestration/client/list.ts";
import { groupNameProblem, jobIdProblem } from "../orchestration/jobs/names.ts";
import { parseSweepJobId } from "../orchestration/jobs/sweep.ts";
import { hasEnded } from "../orchestration/client/sweep.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type Clock, type OpenClient } from "./deps.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

/** The states `--state` takes: a job that has ended cannot be canceled. */
export const CANCEL_STATES = ["pending", "queued", "running"] as const;

const options = {
  ...connectionOptions,
  group: { type: "string", describe: "Cancel every outstanding job of this group" },
  state: {
    type: "string",
    describe: `Cancel only jobs in this state: ${CANCEL_STATES.join(", ")} (pending: routing or queued)`,
  },
  yes: {
    type: "boolean",
    default: false,
    describe: "Cancel the jobs --group/--state choose without asking",
  },
  json: {
    type: "boolean",
    default: false,
    describe: "Print one JSON array: each job's id, outcome and record",
  },
} as const;

export const cancelCommand = defineCommand({
  command: "cancel [ids..]",
  describe: "Cancel jobs by id, or every outstanding job --group/--state choose",
  options,
  epilogue:
    "A running job's worker kills all of its processes; a waiting job never starts. A job that has already ended is left as it is (exit 0). A job id the server does not hold exits 4.",
  run: (args, ctx) =>
    runCancel({ ...args, ids: idsOf(args["ids"]) }, ctx, {
      openClient: openModulateClient,
      ask: askOnTerminal,
    }),
});

export type CancelArgs = ModeArgs<typeof options> & { ids: readonly string[] };

/** What `cancel` does to the world, handed in: tests give a client of their own server. */
export interface CancelDeps {
  readonly openClient: OpenClient<Pick<ModulateClient, "cancel" | "list" | "getSweep" | "close">>;
  /** Asks the user on the terminal; resolves with the answer. Rejects when `signal` fires. */
  readonly ask: (question: string, signal: AbortSignal) => Promise<string>;
  readonly clock?: Clock;
  /** `user@host`, as the records name who canceled [default: this process's user and host]. */
  readonly canceledBy?: string;
}

function idsOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

async function askOnTerminal(question: string, signal: AbortSignal): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question(question, { signal });
  } finally {
    terminal.close();
  }
}

/** The filter `--group`/`--state` ask for, or undefined when jobs are named by id. */
export function cancelFilter(args: CancelArgs): ListFilter | undefined {
  const { group, state } = args;
  if (group === undefined && state === undefined) {
    if (args.ids.length === 0) {
      throw new UserError(
        "name the jobs to cancel: modulate cancel ID... (as submit printed them), or modulate cancel --group G [--state pending|queued|running]",
      );
    }
    return undefined;
  }
  if (args.ids.length > 0) {
    throw new UserError(
      `cancel takes job ids or --group/--state, not both: run it once for ${args.ids.join(" ")} and once for the filter`,
    );
  }
  if (group !== undefined) {
    const problem = groupNameProblem(group);
    if (problem) throw new UserError(`--group ${problem}`);
  }
  if (state !== undefined && !(CANCEL_STATES as readonly string[]).includes(state)) {
    throw new UserError(
      `--state "${state}" cannot be canceled: use one of ${CANCEL_STATES.join(", ")} (a job that has ended stays as it is)`,
    );
  }
  return {
    all: false,
    // Every match: a filter that cancels "the first 100" would leave the rest running.
    limit: Number.MAX_SAFE_INTEGER,
    ...(group === undefined ? {} : { group }),
    ...(state === undefined ? {} : { state: state as (typeof CANCEL_STATES)[number] }),
  };
}

/** What the filter chose, in words: "group gpu, state queued". */
function described(filter: ListFilter): string {
  return [
    filter.group === undefined ? undefined : `group ${filter.group}`,
    filter.state === undefined ? undefined : `state ${filter.state}`,
  ]
    .filter((part) => part !== undefined)
    .join(", ");
}

/** One line per job: what cancel did to it. Not-found jobs are said on stderr. */
export function outcomeLine(outcome: CancelOutcome): string {
  switch (outcome.kind) {
    case "canceled": {
      const where =
        outcome.was === "running"
          ? `running on ${outcome.worker?.host ?? "?"} ${outcome.worker?.pid ?? "?"}`
          : outcome.was === "queued"
            ? "queued"
            : "waiting for a router";
      return `canceled ${outcome.id} (was ${where})`;
    }
    case "ended":
      return `${outcome.id} already ended ${outcome.record.state}: nothing changed`;
    case "not-found":
      return outcome.problem;
  }
}

/** Jobs canceled side by side: a filter may choose thousands. */
const CANCELS_AT_ONCE = 8;

/** At most this many ids are named before the y/N question; the rest are counted. */
const IDS_SHOWN = 10;

export async function runCancel(
  args: CancelArgs,
  ctx: CliContext,
  deps: CancelDeps,
): Promise<number> {
  for (const id of args.ids) {
    // A sweep's job (`S.3`, `S.3-r2`) holds a '.', which no other job id does.
    const problem = parseSweepJobId(id) ? undefined : jobIdProblem(id);
    if (problem) throw new UserError(problem);
  }
  const filter = cancelFilter(args);
  // Checked before anything is asked of the server: a script must say --yes, and learns so now.
  if (filter && !args.yes && !ctx.isInteractive) {
    throw new UserError(
      `cancel --group/--state cancels every job they choose and asks first, but there is no terminal to ask on: add --yes (modulate ls with the same --group/--state lists them)`,
    );
  }
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    const expanded = await unlessStopped(sweepsExpanded(client, args.ids, ctx), ctx.signal);
    if (expanded === STOPPED) return stoppedExitCode(ctx.signal);
    let ids = expanded;
    if (filter) {
      const found = await unlessStopped(client.list(filter), ctx.signal);
      if (found === STOPPED) return stoppedExitCode(ctx.signal);
      ids = found.jobs.map((job) => job.id);
      if (ids.length === 0) {
        ctx.stdout.write(`no outstanding jobs in ${described(filter)}: nothing to cancel\n`);
        return ExitCode.ok;
      }
      if (!args.yes) {
        const named = ids.slice(0, IDS_SHOWN).join(", ");
        const more = ids.length > IDS_SHOWN ? ` and ${ids.length - IDS_SHOWN} more` : "";
        const question = `cancel ${ids.length} job${ids.length === 1 ? "" : "s"} (${described(filter)}): ${named}${more}? [y/N] `;
        const answer = await unlessStopped(deps.ask(question, ctx.signal), ctx.signal);
        if (answer === STOPPED) return stoppedExitCode(ctx.signal);
        if (!/^y(es)?$/i.test(answer.trim())) {
          ctx.stderr.write("modulate: nothing canceled\n");
          return ExitCode.ok;
        }
      }
    }
    const now = (deps.clock ?? Date.now)();
    const outcomes: CancelOutcome[] = [];
    // A few at a time, said in the order given.
    for (let at = 0; at < ids.length; at += CANCELS_AT_ONCE) {
      const batch = ids.slice(at, at + CANCELS_AT_ONCE);
      const done = await unlessStopped(
        Promise.all(batch.map((id) => client.cancel(id, now, deps.canceledBy))),
        ctx.signal,
      );
      if (done === STOPPED) return stoppedExitCode(ctx.signal);
      outcomes.push(...done);
      if (args.json) continue;
      for (const outcome of done) {
        if (outcome.kind === "not-found") ctx.stderr.write(`modulate: ${outcomeLine(outcome)}\n`);
        else ctx.stdout.write(`${outcomeLine(outcome)}\n`);
      }
    }
    if (args.json) {
      ctx.stdout.write(
        `${JSON.stringify(
          outcomes.map((o) => ({
            id: o.id,
            outcome: o.kind,
            ...(o.kind === "not-found" ? { problem: o.problem } : { record: o.record }),
          })),
        )}\n`,
      );
    }
    return outcomes.some((o) => o.kind === "not-found") ? ExitCode.notFound : ExitCode.ok;
  } finally {
    await client.close();
  }
}

/**
 * The ids with each sweep's id replaced by its jobs that have not ended (`cancel SWEEP`); a
 * sweep with none left is said on stderr. A sweep's job holds a '.' and costs no request.
 */
async function sweepsExpanded(
  client: Pick<ModulateClient, "getSweep">,
  ids: readonly string[],
  ctx: CliContext,
): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const sweep = id.includes(".") ? undefined : await client.getSweep(id).catch(() => undefined);
    if (!sweep) {
      out.push(id);
      continue;
    }
    const open = sweep.jobs.filter((job) => !hasEnded(job.stage)).map((job) => job.id);
    if (open.length === 0)
      ctx.stderr.write(`modulate: every job of sweep ${id} has ended: nothing to cancel\n`);
    out.push(...open);
  }
  return out;
}
