import { ExitCode, UserError } from "../common/errors.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import {
  streamVerdict,
  type FollowReport,
  lastLines,
} from "../orchestration/client/follow-output.ts";
import { exitCodeFor, type JobResult } from "../orchestration/jobs/job.ts";
import type { OutputPart, OutputStreamName } from "../orchestration/output-chunk.ts";
import { resolveConnection } from "../orchestration/wire/connection.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { connectionOptions } from "./connection-options.ts";
import { openModulateClient, type OpenClient } from "./deps.ts";
import { jobSummary } from "./job-format.ts";
import { STOPPED, stoppedExitCode, unlessStopped } from "./stop-signal.ts";

const options = {
  ...connectionOptions,
  follow: {
    type: "boolean",
    alias: "f",
    default: false,
    describe:
      "Print lines as the job prints them, through a re-dispatch to another worker, and exit with the job's exit code when it ends",
  },
  tail: { type: "number", describe: "Only the last N lines of what there is so far" },
  stdout: { type: "boolean", default: false, describe: "Only the job's stdout" },
  stderr: { type: "boolean", default: false, describe: "Only the job's stderr" },
  attempt: {
    type: "number",
    describe:
      "Only this attempt's output (a killed attempt's stays readable) [default: the latest]",
  },
} as const;

export const logsCommand = defineCommand({
  command: "logs",
  describe: "Print a job's output: while it runs, what it printed so far; --follow as it prints",
  positional: { name: "id", describe: "The job id that submit printed" },
  options,
  run: (args, ctx) => runLogs(args, ctx, { openClient: openModulateClient }),
});

export type LogsArgs = ModeArgs<typeof options> & { id: string };

/** What `logs` does to the world, handed in: tests give a client of their own server. */
export interface LogsDeps {
  readonly openClient: OpenClient<
    Pick<ModulateClient, "getJob" | "waitForJob" | "followOutput" | "close">
  >;
}

function wholeNumber(value: number | undefined, option: string, least: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < least))
    throw new UserError(`${option} ${value} is not a whole number of at least ${least}`);
}

export async function runLogs(args: LogsArgs, ctx: CliContext, deps: LogsDeps): Promise<number> {
  wholeNumber(args.tail, "--tail", 0);
  wholeNumber(args.attempt, "--attempt", 1);
  // Both flags, or neither: both streams.
  const shown = (stream: OutputStreamName): boolean =>
    args.stdout === args.stderr || (stream === "stdout" ? args.stdout : args.stderr);
  const write = ([stream, text]: OutputPart): void => {
    if (shown(stream)) (stream === "stdout" ? ctx.stdout : ctx.stderr).write(text);
  };
  const client = await deps.openClient(resolveConnection(args.url, args.token, ctx.env));
  try {
    const view = await unlessStopped(client.getJob(args.id), ctx.signal);
    if (view === STOPPED) return stoppedExitCode(ctx.signal);
    if (args.attempt !== undefined && view.finished) {
      const known = view.attempts.map((a) => a.attempt);
      if (!known.includes(args.attempt))
        throw new UserError(
          `job ${args.id} has no attempt ${args.attempt} (${known.length === 0 ? "it never started" : `its attempts: ${known.join(", ")}`})`,
          ExitCode.notFound,
        );
    }
    if (view.finished && args.attempt === undefined) {
      // Ended: the record keeps the output (its tails, where it was long).
      printRecord(view.result, args.tail, write);
      return args.follow ? exitCodeFor(view.result) : ExitCode.ok;
    }
    const ended =
      args.follow && !view.finished
        ? client.waitForJob(args.id, view.spec.mode, ctx.signal)
        : undefined;
    // Handled by the follow; a stopped wait rejects, and the follow has stopped too.
    ended?.catch(() => undefined);
    let printed = 0;
    const report = await client.followOutput(
      args.id,
      {
        attempt: args.attempt,
        // A job that has ended writes no more: its attempts' chunks are read as they are.
        follow: args.follow && !view.finished,
        tailLines: args.tail,
        ended,
        stop: ctx.signal,
      },
      {
        onOutput: (part) => {
          printed += 1;
          write(part);
        },
        onAttempt: (record, previous) => {
          if (previous === undefined && record.attempt === 1) return;
          ctx.stderr.write(
            `--- attempt ${record.attempt} on ${record.worker.host} (${record.worker.pid}) ---\n`,
          );
        },
      },
    );
    if (ctx.signal.aborted) return stoppedExitCode(ctx.signal);
    const answering = view.finished && args.attempt === view.result.attempt;
    if (answering && (report.attempts.get(args.attempt)?.chunks ?? 0) === 0) {
      // A short run publishes no chunk: the record holds its whole output.
      printRecord(view.result, args.tail, write);
      return args.follow ? exitCodeFor(view.result) : ExitCode.ok;
    }
    if (report.attempts.size === 0 && !report.result) {
      ctx.stderr.write(
        `modulate: job ${args.id} has no output yet: ${view.result.reason || view.result.state}\n`,
      );
      return ExitCode.ok;
    }
    if (report.result) return endOfFollow(report.result, report, printed, args.tail, write, ctx);
    noteSkipped(report, ctx);
    return args.follow && view.finished ? exitCodeFor(view.result) : ExitCode.ok;
  } finally {
    await client.close();
  }
}

/** The stored record's output: stdout, then stderr (the record keeps them apart). */
function printRecord(
  result: JobResult,
  tail: number | undefined,
  write: (part: OutputPart) => void,
): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const text = result[stream];
    if (text === "") continue;
    const parts: OutputPart[] = [[stream, text.endsWith("\n") ? text : `${text}\n`]];
    for (const part of tail === undefined ? parts : lastLines(parts, tail)) write(part);
  }
}

function endOfFollow(
  result: JobResult,
  report: FollowReport,
  printed: number,
  tail: number | undefined,
  write: (part: OutputPart) => void,
  ctx: CliContext,
): number {
  const verdict = streamVerdict(report, result);
  // Nothing came live (a worker that publishes none): the record's output, once.
  if (verdict.kind === "none" && printed === 0) printRecord(result, tail, write);
  if (verdict.kind === "partial") ctx.stderr.write(`modulate: ${verdict.note}\n`);
  if (result.state !== "succeeded") ctx.stderr.write(`modulate: ${jobSummary(result)}\n`);
  return exitCodeFor(result);
}

function noteSkipped(report: FollowReport, ctx: CliContext): void {
  for (const [attempt, reading] of report.attempts) {
    if (reading.skippedBytes === 0) continue;
    const where = reading.fullLog
      ? `; the whole log is ${reading.fullLog.file} on ${reading.fullLog.host}`
      : "";
    ctx.stderr.write(
      `modulate: attempt ${attempt}'s live output left out ${reading.skippedBytes} bytes (each chunk keeps the last 64 KiB)${where}\n`,
    );
  }
}
