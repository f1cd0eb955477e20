import { Text } from "ink";
import type { GroupRow } from "./rows.ts";
import type { ListCursor } from "./state.ts";
import { ListFrame } from "./ListFrame.tsx";
import { cell } from "./theme.ts";

const COLUMNS = [
  ["GROUP", 16, "left"],
  ["WORKERS", 8, "right"],
  ["SLOTS", 9, "right"],
  ["GPUS", 6, "right"],
  ["PENDING", 9, "right"],
  ["RUNNING", 9, "right"],
] as const;

function line(values: readonly string[]): string {
  return COLUMNS.map(([, width, align], i) => cell(values[i] ?? "", width, align)).join(" ");
}

/** Per group: live workers, busy/total slots, GPUs, pending and running jobs. */
export function GroupsView({
  rows,
  cursor,
  pageRows,
}: {
  rows: readonly GroupRow[];
  cursor: ListCursor;
  pageRows: number;
}) {
  return (
    <ListFrame
      header={` ${line(COLUMNS.map(([title]) => title))}`}
      empty=" no worker groups yet: start one with modulate worker --group NAME"
      count={rows.length}
    >
      {rows.slice(cursor.offset, cursor.offset + pageRows).map((g, i) => (
        <Text key={g.name} inverse={cursor.offset + i === cursor.index} wrap="truncate">
          {` ${line([
            g.name,
            String(g.workers),
            `${g.busy}/${g.slots}`,
            String(g.gpus),
            String(g.pending),
            String(g.running),
          ])}`}
        </Text>
      ))}
    </ListFrame>
  );
}
