import { Text } from "ink";
import type { ListedJob } from "../orchestration/client/list.ts";
import type { ListCursor } from "./state.ts";
import { ListFrame } from "./ListFrame.tsx";
import { cell, STAGE_COLOR, useTint, formatAge } from "./theme.ts";

/** How long ago, from the job's point of view: waiting or running since, or ended ago. */
function age(job: ListedJob, now: number): string {
  const since = job.finishedAt ?? job.startedAt ?? job.submittedAt;
  return formatAge(now - since);
}

/** Where it runs, or why it waits, or how it ended. */
function detailOf(job: ListedJob): string {
  if (job.stage === "running") return job.worker ? `${job.worker.host} ${job.worker.pid}` : "";
  return job.reason;
}

/** Jobs, newest first: state, id, group, script, age, and the worker or the REASON. */
export function JobsView({
  rows,
  cursor,
  pageRows,
  marked,
  now,
  columns,
}: {
  rows: readonly ListedJob[];
  cursor: ListCursor;
  pageRows: number;
  marked: readonly string[];
  now: number;
  columns: number;
}) {
  const tint = useTint();
  // Ids as newJobId makes them are 21 characters; wider screens give the REASON the rest.
  const idWidth = columns >= 100 ? 24 : 21;
  const scriptWidth = columns >= 100 ? 20 : 10;
  const header = `  ${cell("STATE", 9)} ${cell("ID", idWidth)} ${cell("GROUP", 8)} ${cell("SCRIPT", scriptWidth)} ${cell("AGE", 6, "right")} WORKER/REASON`;
  return (
    <ListFrame
      header={header}
      empty=" no jobs here (a: show finished, Esc: clear filters)"
      count={rows.length}
    >
      {rows.slice(cursor.offset, cursor.offset + pageRows).map((job, i) => {
        const selected = cursor.offset + i === cursor.index;
        return (
          <Text key={job.id} inverse={selected} wrap="truncate">
            {marked.includes(job.id) ? "* " : "  "}
            <Text color={tint(STAGE_COLOR[job.stage])}>{cell(job.stage, 9)}</Text>
            {` ${cell(job.id, idWidth)} ${cell(job.group, 8)} ${cell(job.script, scriptWidth)} ${cell(age(job, now), 6, "right")} ${detailOf(job)}`}
          </Text>
        );
      })}
    </ListFrame>
  );
}
