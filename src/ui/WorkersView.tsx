import { Text } from "ink";
import type { WorkerView } from "../orchestration/presence.ts";
import type { ListCursor } from "./state.ts";
import { ListFrame } from "./ListFrame.tsx";
import { cell, formatAge } from "./theme.ts";

/** Live workers as `modulate workers` lists them. */
export function WorkersView({
  rows,
  cursor,
  pageRows,
  now,
}: {
  rows: readonly WorkerView[];
  cursor: ListCursor;
  pageRows: number;
  now: number;
}) {
  const header = ` ${cell("GROUP", 10)} ${cell("HOST", 14)} ${cell("SLOTS", 6, "right")} ${cell("GPUS", 6)} ${cell("UP", 7, "right")} PID`;
  return (
    <ListFrame
      header={header}
      empty=" no live workers: start one with modulate worker --group NAME"
      count={rows.length}
    >
      {rows.slice(cursor.offset, cursor.offset + pageRows).map((w, i) => (
        <Text key={w.pid} inverse={cursor.offset + i === cursor.index} wrap="truncate">
          {` ${cell(w.group, 10)} ${cell(w.host, 14)} ${cell(`${w.busy}/${w.slots}`, 6, "right")} ${cell(w.gpus === undefined ? "?" : w.gpus.length === 0 ? "-" : w.gpus.join(","), 6)} ${cell(formatAge(now - w.startedAt), 7, "right")} ${w.pid}`}
        </Text>
      ))}
    </ListFrame>
  );
}
