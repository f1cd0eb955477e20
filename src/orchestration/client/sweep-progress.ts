// A sweep's progress in words and as a bar, the same in the CLI (`get`, `ls`, `submit --wait`)
// and the dashboard. Pure.
import type { SweepProgress, SweepView } from "./sweep.ts";

/** `12/50 done, 3 failed, 8 running, 27 queued`. */
export function progressLine(view: Pick<SweepView, "progress" | "record">): string {
  const p: SweepProgress = view.progress;
  return `${p.done}/${view.record.count} done, ${p.failed} failed, ${p.running} running, ${p.queued} queued`;
}

/** A bar of `width` cells: done `#`, failed `!`, running `>`, queued `.`. */
export function progressBar(view: Pick<SweepView, "progress" | "record">, width = 20): string {
  const { done, failed, running } = view.progress;
  const total = Math.max(1, view.record.count);
  const cells = (n: number): number => Math.round((n / total) * width);
  const d = cells(done);
  const f = Math.min(width - d, cells(failed));
  const r = Math.min(width - d - f, cells(running));
  return `[${"#".repeat(d)}${"!".repeat(f)}${">".repeat(r)}${".".repeat(width - d - f - r)}]`;
}
