// How a sweep reads on a terminal: its progress line, `get`'s summary with each failure and its
// reason, and `ls`'s rows of sweeps.
import { formatDuration } from "../common/units.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import { progressBar, progressLine } from "../orchestration/client/sweep-progress.ts";
import { alignedTable } from "./aligned-table.ts";

/** `get SWEEP`: what it is, where it stands, and each job that did not succeed, with why. */
export function sweepDetails(view: SweepView): string {
  const { record } = view;
  const lines = [
    `sweep:    ${record.id}`,
    `group:    ${record.group}`,
    `jobs:     ${record.count} (${record.id}.1 .. ${record.id}.${record.count})${record.array ? `, array ${arrayText(record.array)}` : ""}`,
    ...(record.maxRunning === undefined ? [] : [`max-running: ${record.maxRunning}`]),
    `state:    ${view.finished ? "finished" : "in progress"}: ${progressLine(view)}`,
  ];
  const failed = view.jobs.filter(
    (job) => job.stage !== "succeeded" && job.stage !== "running" && job.stage !== "queued",
  );
  if (failed.length > 0) {
    lines.push(`failed:`);
    const rows = failed.map((job) => [
      job.id,
      job.stage,
      job.exitCode === null ? "-" : String(job.exitCode),
      job.script,
      job.reason,
    ]);
    lines.push(
      ...alignedTable([["JOB", "STATE", "EXIT", "SCRIPT", "REASON"], ...rows])
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => `  ${line}`),
    );
    lines.push(`retry them with: modulate retry ${record.id} --failed`);
  }
  return `${lines.join("\n")}\n`;
}

function arrayText(indices: readonly number[]): string {
  const first = indices[0];
  const last = indices.at(-1);
  return indices.length > 1 ? `${first}..${last}` : String(first);
}

/** `ls`'s rows of sweeps, above its jobs. */
export function sweepsTable(views: readonly SweepView[], now: number): string {
  const rows = views.map((view) => [
    view.record.id,
    view.record.group,
    formatDuration(Math.max(0, now - view.record.submittedAt)),
    progressBar(view, 10),
    progressLine(view),
  ]);
  return alignedTable([["SWEEP", "GROUP", "AGE", "PROGRESS", ""], ...rows]);
}
