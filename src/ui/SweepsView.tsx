import { Text } from "ink";
import { progressBar } from "../orchestration/client/sweep-progress.ts";
import type { SweepView } from "../orchestration/client/sweep.ts";
import type { ListCursor } from "./state.ts";
import { ListFrame } from "./ListFrame.tsx";
import { cell, formatAge } from "./theme.ts";

/** Every column but the bar, with the spaces between them: the bar takes the rest. */
const FIXED_CELLS = 62;

function line(values: readonly string[], barCells: number): string {
  const [
    id = "",
    group = "",
    bar = "",
    done = "",
    failed = "",
    running = "",
    queued = "",
    age = "",
  ] = values;
  return [
    cell(id, 14),
    cell(group, 8),
    cell(bar, barCells + 2),
    cell(done, 7, "right"),
    cell(failed, 6, "right"),
    cell(running, 7, "right"),
    cell(queued, 6, "right"),
    cell(age, 6, "right"),
  ].join(" ");
}

/** Each sweep with its progress bar and its jobs by how they stand, newest first. */
export function SweepsView({
  rows,
  cursor,
  pageRows,
  now,
  columns,
}: {
  rows: readonly SweepView[];
  cursor: ListCursor;
  pageRows: number;
  now: number;
  columns: number;
}) {
  // The bar's cells: done `#`, failed `!`, running `>`, queued `.`.
  const barCells = Math.max(10, Math.min(40, columns - FIXED_CELLS - 3));
  return (
    <ListFrame
      header={` ${line(["SWEEP", "GROUP", "PROGRESS", "DONE", "FAILED", "RUNNING", "QUEUED", "AGE"], barCells)}`}
      empty=" no outstanding sweeps (a shows finished ones): submit a.py b.py ... or --array makes one"
      count={rows.length}
    >
      {rows.slice(cursor.offset, cursor.offset + pageRows).map((sweep, i) => {
        const { record, progress } = sweep;
        return (
          <Text key={record.id} inverse={cursor.offset + i === cursor.index} wrap="truncate">
            {` ${line(
              [
                record.id,
                record.group,
                progressBar(sweep, barCells),
                `${progress.done}/${record.count}`,
                String(progress.failed),
                String(progress.running),
                String(progress.queued),
                formatAge(now - record.submittedAt),
              ],
              barCells,
            )}`}
          </Text>
        );
      })}
    </ListFrame>
  );
}
