import { basename } from "node:path";
import { ExitCode, UserError } from "../common/errors.ts";
import { DEFAULT_MAX_BODY_BYTES, maxValueJsonBytes } from "../common/limits.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import { streamVerdict, type FollowReport } from "../orchestration/client/follow-output.ts";
import {
  exitCodeFor,
  type JobLimitRequest,
  type JobResult,
  type JobSpec,
} from "../orchestration/jobs/job.ts";
import { groupNameProblem, newJobId, newSweepId } from "../orchestration/jobs/names.ts";
import { runSubmitSweep } from "./submit-sweep.ts";
import {
  dependenciesProblem,
  retriesProblem,
  userJobIdProblem,
} from "../orchestration/jobs/validate-submission.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { parseBytes, parseDurationMs } from "../common/units.ts";
import { defineCommand, passThroughArgs, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type Clock, type OpenClient } from "./deps.ts";
import { jobSummary } from "./job-format.ts";
import { readScriptFile, readScriptStdin } from "../common/read-script.ts";
import { scriptKind } from "../sandbox/script-kind.ts";
import { formatBytes } from "../common/units.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";
import { writeOutputs } from "./write-outputs.ts";
import {
  interpreterNameProblem,
  interpreterRefusal,
  parseGpusAsked,
} from "../orchestration/jobs/resources.ts";

const options = {
  ...connectionOptions,
  group: { type: "string", default: "cpu", describe: "Worker group or machine type to run on" },
  id: {
    type: "string",
    describe:
      "Job id (a sweep's id, for many scripts or --array); the same id twice is the same job [default: a fresh one]",
  },
  array: {
    type: "string",
    describe:
      "Run the script once per index, as Slurm's --array: 0-49, 1,3,5, 0-20:2; %8 at the end runs at most 8 at once. Each gets MODULATE_ARRAY_INDEX and SLURM_ARRAY_TASK_ID",
  },
  "max-running": {
    type: "number",
    describe: "For a sweep: at most this many of its jobs run at once [default: no cap]",
  },
  wait: {
    type: "boolean",
    default: false,
    describe:
      "For a sweep (detached by default): wait for every job, showing progress; exits 1 if any failed",
  },
  detach: {
    type: "boolean",
    default: false,
    describe: "Print the id once the submission is durable and exit; ask later with 'get'",
  },
  timeout: { type: "string", default: "10m", describe: "Longest the script may run" },
  "queue-timeout": {
    type: "string",
    default: "24h",
    describe:
      "Longest the job may wait for a worker to take it; then it ends timed_out, exit 124 (the router's --queue-timeout caps it)",
  },
  env: {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "K=V to set in the script's environment (repeatable)",
  },
  memory: { type: "string", describe: "Memory limit of the job, e.g. 2G (at most the worker's)" },
  "cpu-time": { type: "string", describe: "CPU time limit of each process, e.g. 5m" },
  "max-procs": { type: "number", describe: "Processes and threads the job may have" },
  "max-output": { type: "string", describe: "Output kept of each of stdout and stderr, e.g. 16M" },
  output: {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "File the job leaves in its directory to bring back (repeatable)",
  },
  "output-dir": {
    type: "string",
    default: ".",
    describe: "Where --output files are written on this machine",
  },
  network: {
    type: "boolean",
    default: false,
    describe: "The script needs the network (granted where the worker allows it)",
  },
  gpus: {
    type: "string",
    describe:
      "GPUs of one worker the job holds: a count (0: none, beside GPU jobs) or shared (a share of one, with worker --jobs-per-gpu) [default: one on a worker with GPUs]",
  },
  interpreter: {
    type: "string",
    describe:
      "Run the script with the interpreter of this name the worker declares (worker --interpreter NAME=PATH)",
  },
  after: {
    type: "string",
    array: true,
    default: [] as string[],
    describe:
      "ID[,ID...]: start only once these jobs have succeeded; fail if one does not (repeatable)",
  },
  "after-any": {
    type: "boolean",
    default: false,
    describe: "With --after: start once those jobs have ended, however they ended",
  },
  retries: {
    type: "number",
    default: 0,
    describe: "Run the script again after it fails (non-zero exit), at most this many times",
  },
  "retry-timeouts": {
    type: "boolean",
    default: false,
    describe: "With --retries: run again after a run that timed out too",
  },
  json: {
    type: "boolean",
    default: false,
    describe: "Print the result record (or, with --detach, the id) as JSON",
  },
  quiet: {
    type: "boolean",
    default: false,
    describe:
      "Do not stream the job's output as it prints; print it once the job ends (as --json does)",
  },
} as const;

export const submitCommand = defineCommand({
  command: "submit",
  describe: "Submit a script to a worker group; wait for its result unless --detach",
  positional: {
    name: "script",
    describe:
      "The script to run (.py, .sh, .bash, .js, .mjs, .cjs, or another name with a #! line); - reads it from stdin. Several scripts make a sweep: one id, a job each",
    more: "more",
  },
  options,
  epilogue:
    "Arguments after -- go to the script: modulate submit train.py --group gpu -- --epochs 3",
  run: (args, ctx) =>
    runSubmit({ ...args, more: wordsOf(args["more"]) }, ctx, {
      openClient: openModulateClient,
      stdin: processStdin,
      clock: Date.now,
    }),
});

function wordsOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export type SubmitArgs = ModeArgs<typeof options> & {
  script: string;
  /** Scripts after the first: with it, a sweep. */
  more?: readonly string[];
};

/** What `submit` does to the world, handed in: tests give their own server, stdin or clock. */
export interface SubmitDeps {
  readonly openClient: OpenClient<
    Pick<
      ModulateClient,
      | "submit"
      | "waitForJob"
      | "groupHasLiveWorker"
      | "followOutput"
      | "workers"
      | "close"
      | "submitSweep"
      | "getSweep"
      | "prepareToWait"
    >
  >;
  /** Where `submit -` reads its script. */
  readonly stdin: ScriptInput;
  /** When the job is submitted: its fresh id and its record's `submittedAt`. */
  readonly clock: Clock;
}

/** Where `submit -` reads its script: process.stdin, or what a test hands in. */
type ScriptInput = AsyncIterable<Buffer | string> & { destroy?(): void };

/**
 * process.stdin, made only when read: making it costs a few ms of a start that reads no stdin
 * (every `submit FILE`).
 */
const processStdin: ScriptInput = {
  [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator](),
  destroy: () => process.stdin.destroy(),
};

/** The name a script read from stdin (`submit -`) goes by. */
const STDIN_SCRIPT_NAME = "stdin";

/**
 * The script's name and text. Bounded by what a request to the server can carry at all; the
 * client measures the encoded submission again before sending it.
 */
async function readScript(
  path: string,
  stdin: AsyncIterable<Buffer | string>,
): Promise<{ name: string; content: string }> {
  const limitBytes = maxValueJsonBytes(DEFAULT_MAX_BODY_BYTES);
  const why = `${formatBytes(DEFAULT_MAX_BODY_BYTES)}, modulate server --max-body`;
  if (path !== "-") {
    return {
      name: basename(path),
      content: readScriptFile(path, limitBytes, why).toString("utf8"),
    };
  }
  const content = (await readScriptStdin(stdin, limitBytes, why)).toString("utf8");
  // The name says nothing of the language: by the one rule (script-kind.ts), only a #! line can.
  if (scriptKind(STDIN_SCRIPT_NAME, content) === undefined)
    throw new UserError(
      "a script read from stdin (-) needs a #! line naming its interpreter, e.g. #!/usr/bin/env python3; nothing was submitted",
    );
  return { name: STDIN_SCRIPT_NAME, content };
}

function parseEnv(pairs: readonly (string | number)[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs.map(String)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UserError(`--env "${pair}" is not K=V: write it as NAME=value`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function limitsFrom(args: ModeArgs<typeof options>): JobLimitRequest {
  if (args.maxProcs !== undefined && (!Number.isInteger(args.maxProcs) || args.maxProcs < 1)) {
    throw new UserError(`--max-procs ${args.maxProcs} is not a positive whole number`);
  }
  return {
    ...(args.memory === undefined ? {} : { memoryBytes: parseBytes(args.memory, "--memory") }),
    ...(args.cpuTime === undefined
      ? {}
      : { cpuTimeMs: parseDurationMs(args.cpuTime, "--cpu-time") }),
    ...(args.maxProcs === undefined ? {} : { maxProcs: args.maxProcs }),
    ...(args.maxOutput === undefined
      ? {}
      : { maxOutputBytes: parseBytes(args.maxOutput, "--max-output") }),
  };
}

/** The refusal of a named interpreter the group's live workers do not declare, if any. */
async function interpreterCheck(
  client: Pick<ModulateClient, "workers">,
  group: string,
  name: string,
): Promise<string | undefined> {
  const members = (await client.workers().catch(() => [])).filter((w) => w.group === group);
  if (members.length === 0 || members.some((w) => w.interpreters?.includes(name))) return undefined;
  const offered = [...new Set(members.flatMap((w) => w.interpreters ?? []))];
  return `--interpreter: ${interpreterRefusal(name, group, offered)}`;
}

/** What the job asks of its worker beyond a slot: `--gpus` and `--interpreter`, checked. */
function resourceAsks(args: ModeArgs<typeof options>): Pick<JobSpec, "gpus" | "interpreter"> {
  const gpus = args.gpus === undefined ? undefined : parseGpusAsked(args.gpus);
  if (args.gpus !== undefined && gpus === undefined) {
    throw new UserError(
      `--gpus ${JSON.stringify(args.gpus)} is not valid: give a whole number of GPUs such as 2, 0 for none, or shared`,
    );
  }
  if (args.interpreter !== undefined) {
    const problem = interpreterNameProblem(args.interpreter);
    if (problem) throw new UserError(`--interpreter: ${problem}`);
  }
  return {
    ...(gpus === undefined ? {} : { gpus }),
    ...(args.interpreter === undefined ? {} : { interpreter: args.interpreter }),
  };
}

/** The jobs `--after` names, each once, in the order given; and what the job does on failure. */
function dependenciesAndRetries(
  args: ModeArgs<typeof options>,
  id: string,
): Pick<JobSpec, "after" | "retries" | "retryTimedOut"> {
  const ids = [
    ...new Set(
      args.after
        .map(String)
        .flatMap((list) => list.split(","))
        .map((part) => part.trim())
        .filter((part) => part !== ""),
    ),
  ];
  if (args.afterAny && ids.length === 0) {
    throw new UserError("--after-any needs --after ID[,ID...]: name the jobs to wait for");
  }
  if (args.retryTimeouts && args.retries === 0) {
    throw new UserError("--retry-timeouts needs --retries N: say how many runs again at most");
  }
  const dependencyProblem = dependenciesProblem(id, ids);
  if (dependencyProblem) throw new UserError(`--after: ${dependencyProblem}`);
  const retryProblem = retriesProblem(args.retries);
  if (retryProblem) throw new UserError(`--${retryProblem}`);
  return {
    ...(ids.length > 0 ? { after: { ids, any: args.afterAny } } : {}),
    ...(args.retries > 0 ? { retries: args.retries } : {}),
    ...(args.retryTimeouts ? { retryTimedOut: true } : {}),
  };
}

export async function runSubmit(
  args: SubmitArgs,
  ctx: CliContext,
  deps: SubmitDeps,
): Promise<number> {
  const groupProblem = groupNameProblem(args.group);
  if (groupProblem) throw new UserError(`--group ${groupProblem}`);
  if (args.id !== undefined) {
    const idProblem = userJobIdProblem(args.id);
    if (idProblem) throw new UserError(`--id ${idProblem}`);
  }
  const paths = [args.script, ...(args.more ?? [])];
  if (paths.length > 1 || args.array !== undefined || args.maxRunning !== undefined)
    return submitSweep(args, paths, ctx, deps);
  const script = await unlessStopped(readScript(args.script, deps.stdin), ctx.signal);
  if (script === STOPPED) {
    // A read of stdin still pending would keep the process alive.
    deps.stdin.destroy?.();
    return stoppedExitCode(ctx.signal);
  }
  const now = deps.clock();
  const env = parseEnv(args.env);
  const limits = limitsFrom(args);
  const queueTimeoutMs = parseDurationMs(args.queueTimeout, "--queue-timeout");
  const id = args.id ?? newJobId(now);
  const spec: JobSpec = {
    id,
    group: args.group,
    script,
    args: passThroughArgs(args),
    timeoutMs: parseDurationMs(args.timeout, "--timeout"),
    queueTimeoutMs,
    mode: args.detach ? "detach" : "wait",
    submittedAt: now,
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(args.output.length > 0 ? { outputs: args.output.map(String) } : {}),
    ...(args.network ? { network: true } : {}),
    ...resourceAsks(args),
    ...dependenciesAndRetries(args, id),
  };
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    if (spec.interpreter !== undefined) {
      // Refused by name where the group's live workers declare other interpreters only; a
      // group with none alive now (or a machine type a router sends elsewhere) may get one.
      const refusal = await unlessStopped(
        interpreterCheck(client, spec.group, spec.interpreter),
        ctx.signal,
      );
      if (refusal === STOPPED) return stoppedExitCode(ctx.signal);
      if (refusal !== undefined) throw new UserError(refusal);
    }
    const submitting = client.submit(spec, queueTimeoutMs);
    // Asked beside the submission, so a group with workers waits for no extra round trip; a
    // failed ask says nothing (the submission's own answer speaks for the server). Both go out
    // once the submission has (after this turn's microtasks): the server takes it first.
    const afterSubmissionSent = new Promise<void>((resolve) => setImmediate(resolve));
    const staffed = afterSubmissionSent
      .then(() => client.groupHasLiveWorker(spec.group))
      .catch(() => true);
    if (!args.detach) void afterSubmissionSent.then(() => client.prepareToWait());
    const submitted = await unlessStopped(submitting, ctx.signal);
    // Stopped before the server answered: the submission may or may not be durable.
    if (submitted === STOPPED) {
      ctx.stderr.write(
        `modulate: stopped while submitting; 'modulate get ${spec.id}' tells whether job ${spec.id} exists\n`,
      );
      return stoppedExitCode(ctx.signal);
    }
    if (submitted.existing) {
      ctx.stderr.write(
        `modulate: job ${spec.id} already exists: this is that job, not a new one\n`,
      );
    } else if (!args.detach) {
      // As srun says its job id: another terminal can follow the job, or `get` it later.
      // Said after the line others look for, so a job that waits reads the same way.
      const after = spec.after ? `, after ${spec.after.ids.join(", ")}` : "";
      ctx.stderr.write(`modulate: job ${spec.id} queued on ${spec.group}${after}\n`);
    }
    if ((await unlessStopped(staffed, ctx.signal)) === false) {
      // Accepted all the same: a worker may join later, and a router's --routes may send the
      // group to another one.
      ctx.stderr.write(
        `modulate: warning: no live worker in group ${spec.group} now: the job waits for one up to its --queue-timeout (modulate workers lists the live ones)\n`,
      );
    }
    if (args.detach) {
      ctx.stdout.write(
        args.json
          ? `${JSON.stringify({ id: spec.id, existing: submitted.existing })}\n`
          : `${spec.id}\n`,
      );
      return ExitCode.ok;
    }
    // Whether the live stream has printed anything, and whether it may still: once the record
    // is printed instead (recordSaysAll), what the stream would add is dropped.
    const live = { printed: false, closed: false };
    const liveStop = new AbortController();
    // A job whose record holds all it printed, of which nothing came live yet, is printed from
    // the record: reading its chunks once more would only delay the exit by their round trips.
    // Decided as the record comes, before the stream wakes to read on.
    const waiting = client.waitForJob(spec.id, undefined, ctx.signal).then((result) => {
      if (!args.quiet && !args.json && !live.printed && recordSaysAll(result)) {
        live.closed = true;
        liveStop.abort();
      }
      return result;
    });
    // Streamed as srun does, stdout to stdout and stderr to stderr; never into --json's stdout.
    const streaming =
      args.quiet || args.json
        ? undefined
        : client.followOutput(
            spec.id,
            {
              follow: true,
              fromFirst: true,
              ended: waiting,
              stop: AbortSignal.any([ctx.signal, liveStop.signal]),
            },
            {
              onOutput: ([stream, text]) => {
                if (live.closed) return;
                live.printed = true;
                (stream === "stdout" ? ctx.stdout : ctx.stderr).write(text);
              },
              onAttempt: (record, previous) => {
                if (live.closed || (previous === undefined && record.attempt === 1)) return;
                live.printed = true;
                ctx.stderr.write(
                  `--- attempt ${record.attempt} on ${record.worker.host} (${record.worker.pid}) ---\n`,
                );
              },
            },
          );
    // A failed stream costs the live view, not the job: the record's output is printed then.
    const streamed = streaming?.catch(() => undefined);
    const result = await unlessStopped(waiting, ctx.signal);
    if (result === STOPPED) {
      ctx.stderr.write(
        `modulate: stopped waiting; job ${spec.id} goes on: 'modulate get ${spec.id} --wait' follows it\n`,
      );
      return stoppedExitCode(ctx.signal);
    }
    for (const line of writeOutputs(result.outputs ?? [], args.outputDir))
      ctx.stderr.write(`modulate: ${line}\n`);
    const report = streamed && !live.closed ? await unlessStopped(streamed, ctx.signal) : undefined;
    if (report === STOPPED) return stoppedExitCode(ctx.signal);
    if (args.json) {
      ctx.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      printEnd(result, report, ctx);
      if (result.state !== "succeeded") ctx.stderr.write(`modulate: ${jobSummary(result)}\n`);
    }
    return exitCodeFor(result);
  } finally {
    await client.close();
  }
}

/** Many scripts, or one with --array: a sweep (submit-sweep.ts). */
async function submitSweep(
  args: SubmitArgs,
  paths: readonly string[],
  ctx: CliContext,
  deps: SubmitDeps,
): Promise<number> {
  if (paths.includes("-"))
    throw new UserError(
      "a sweep cannot read a script from stdin (-): name each script as a file; nothing was submitted",
    );
  const limitBytes = maxValueJsonBytes(DEFAULT_MAX_BODY_BYTES);
  const why = `${formatBytes(DEFAULT_MAX_BODY_BYTES)}, modulate server --max-body`;
  const now = deps.clock();
  // Every job of the sweep asks what one job would: its GPUs, interpreter and retries.
  const sweepId = args.id ?? newSweepId(now);
  const asks = resourceAsks(args);
  const { after, ...retries } = dependenciesAndRetries(args, sweepId);
  // A capped lane's held jobs are routed by the job before them, which a failed dependency
  // would end before it routes them: refused rather than dropped or stranded.
  if (after)
    throw new UserError(
      "--after is not taken by a sweep: submit the sweep once those jobs have ended, or each script with --after; nothing was submitted",
    );
  const scripts = paths.map((path) => ({
    name: basename(path),
    content: readScriptFile(path, limitBytes, why).toString("utf8"),
  }));
  const env = parseEnv(args.env);
  const limits = limitsFrom(args);
  const queueTimeoutMs = parseDurationMs(args.queueTimeout, "--queue-timeout");
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    if (asks.interpreter !== undefined) {
      const refusal = await unlessStopped(
        interpreterCheck(client, args.group, asks.interpreter),
        ctx.signal,
      );
      if (refusal === STOPPED) return stoppedExitCode(ctx.signal);
      if (refusal !== undefined) throw new UserError(refusal);
    }
    return await runSubmitSweep(
      {
        id: sweepId,
        group: args.group,
        scripts,
        array: args.array,
        maxRunning: args.maxRunning,
        wait: args.wait && !args.detach,
        json: args.json,
        queueTimeoutMs,
        submittedAt: now,
        base: {
          args: passThroughArgs(args),
          timeoutMs: parseDurationMs(args.timeout, "--timeout"),
          queueTimeoutMs,
          ...(Object.keys(env).length > 0 ? { env } : {}),
          ...(Object.keys(limits).length > 0 ? { limits } : {}),
          ...(args.output.length > 0 ? { outputs: args.output.map(String) } : {}),
          ...(args.network ? { network: true } : {}),
          ...asks,
          ...retries,
        },
      },
      client,
      ctx,
    );
  } finally {
    await client.close();
  }
}

/** Output of a job this small, in one stream, prints the same from its record as live. */
const RECORD_IN_PLACE_OF_STREAM_BYTES = 16 * 1024;

/**
 * Whether printing `result`'s output says exactly what its live stream would have: its first
 * attempt, nothing cut or noted (an empty reason), one stream at most (so no order between the
 * two is lost), and small.
 */
function recordSaysAll(result: JobResult): boolean {
  return (
    result.attempt === 1 &&
    result.reason === "" &&
    (result.stdout === "" || result.stderr === "") &&
    Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr) <=
      RECORD_IN_PLACE_OF_STREAM_BYTES
  );
}

/**
 * The job's output at its end, printed once: nothing more where the live stream had it all,
 * the record's where nothing came live (--quiet, or a worker that publishes none), and one
 * line saying what the stream missed where it had only part, rather than all of it twice.
 */
function printEnd(result: JobResult, report: FollowReport | undefined, ctx: CliContext): void {
  const verdict = report ? streamVerdict(report, result) : { kind: "none" as const };
  if (verdict.kind === "none") {
    ctx.stdout.write(result.stdout);
    ctx.stderr.write(result.stderr);
  } else if (verdict.kind === "partial") {
    ctx.stderr.write(`modulate: ${verdict.note}\n`);
  }
}
