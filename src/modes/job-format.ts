// How a job reads on a terminal. Pure: a view in, text out.
import type { AttemptView } from "../orchestration/attempts.ts";
import type { JobResult } from "../orchestration/jobs/job.ts";
import { formatDuration } from "../common/units.ts";

function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
}

/** One line: what `submit` says when a job did not succeed, and `ls` will show per job. */
export function jobSummary(result: JobResult): string {
  return result.reason
    ? `job ${result.id} ${result.state}: ${result.reason}`
    : `job ${result.id} ${result.state}`;
}

/** How an attempt ended: its own record's state ("abandoned" when its worker died), if closed. */
function attemptEnd(attempt: AttemptView): string {
  if (attempt.promiseState === "pending") return "unfinished";
  return attempt.outcome?.state ?? "finished";
}

export function jobDetails(result: JobResult, attempts: readonly AttemptView[]): string {
  const rows: [string, string][] = [
    ["id", result.id],
    ["state", result.state],
    ["reason", result.reason || "-"],
    ["group", result.group],
    ["exit code", result.exitCode === null ? "-" : String(result.exitCode)],
    ["worker", result.worker ? `${result.worker.host} (${result.worker.pid})` : "-"],
    ["attempt", String(result.attempt)],
    ["submitted", when(result.submittedAt)],
    ["started", when(result.startedAt)],
    ["finished", when(result.finishedAt)],
    ["duration", result.finishedAt === null ? "-" : formatDuration(result.durationMs)],
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(10)} ${v}`);
  if (attempts.length > 1) {
    lines.push("attempts:");
    for (const a of attempts) {
      lines.push(
        `  ${a.attempt}  ${a.worker.host} (${a.worker.pid})  ${when(a.startedAt)}  ${attemptEnd(a)}`,
      );
    }
  }
  if (result.stdout) lines.push("--- stdout (tail) ---", result.stdout.replace(/\n$/, ""));
  if (result.stderr) lines.push("--- stderr (tail) ---", result.stderr.replace(/\n$/, ""));
  return `${lines.join("\n")}\n`;
}
