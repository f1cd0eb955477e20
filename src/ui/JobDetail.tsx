import { Box, Text } from "ink";
import { visibleLines, type DetailState } from "./detail-state.ts";
import { STAGE_COLOR, useTint, formatAge } from "./theme.ts";
import type { ListedStage } from "../orchestration/client/list.ts";

/** The most attempts listed: the latest ones. */
const ATTEMPT_LINES = 3;

function ago(ms: number | null | undefined, now: number): string {
  return ms === null || ms === undefined ? "-" : `${formatAge(now - ms)} ago`;
}

/** One job: its record, its attempts, and its output, followed live until it ends. */
export function JobDetail({
  detail,
  height,
  now,
}: {
  detail: DetailState;
  /** Lines the detail may fill. */
  height: number;
  now: number;
}) {
  const tint = useTint();
  const view = detail.view;
  const result = view?.result;
  const info: { key: string; node: React.ReactNode }[] = [];
  const stage = (result?.state === "pending" ? "queued" : result?.state) as ListedStage | undefined;
  info.push({
    key: "head",
    node: (
      <Text wrap="truncate" bold>
        {`job ${detail.id}  `}
        <Text color={tint(stage && STAGE_COLOR[stage])}>{result?.state ?? "loading…"}</Text>
        {view ? `  ${view.spec.script.name}  group ${result?.group ?? view.spec.group}` : ""}
        {result && result.exitCode !== null ? `  exit ${result.exitCode}` : ""}
      </Text>
    ),
  });
  if (result) {
    info.push({
      key: "times",
      node: (
        <Text wrap="truncate" dimColor>
          {`submitted ${ago(result.submittedAt, now)}  started ${ago(result.startedAt, now)}  finished ${ago(result.finishedAt, now)}${result.worker ? `  on ${result.worker.host} (${result.worker.pid})` : ""}`}
        </Text>
      ),
    });
    if (result.reason)
      info.push({ key: "reason", node: <Text wrap="truncate">{`reason: ${result.reason}`}</Text> });
  }
  if (detail.error)
    info.push({
      key: "error",
      node: (
        <Text wrap="truncate" color={tint("red")}>
          {detail.error}
        </Text>
      ),
    });
  for (const a of (view?.attempts ?? []).slice(-ATTEMPT_LINES)) {
    info.push({
      key: `attempt-${a.attempt}`,
      node: (
        <Text wrap="truncate" dimColor>
          {`attempt ${a.attempt} on ${a.worker.host} (${a.worker.pid}) started ${ago(a.startedAt, now)}: ${a.outcome ? `${a.outcome.state}${a.outcome.reason ? `, ${a.outcome.reason}` : ""}` : a.promiseState === "pending" ? "running" : a.promiseState}`}
        </Text>
      ),
    });
  }
  const finished = view?.finished ?? false;
  const mode = finished ? "stored output" : detail.follow ? "following" : "paused (f follows)";
  const outputRows = Math.max(1, height - info.length - 1);
  const lines = visibleLines(detail);
  const end = Math.max(0, lines.length - detail.scrollBack);
  const shown = lines.slice(Math.max(0, end - outputRows), end);
  return (
    <Box flexDirection="column" flexGrow={1}>
      {info.map((i) => (
        <Box key={i.key}>{i.node}</Box>
      ))}
      <Text
        wrap="truncate"
        dimColor
      >{`── output: ${mode}, ${detail.search ? `${lines.length} of ${detail.lines.length} lines with "${detail.search}"` : `${detail.lines.length} lines`}${detail.attempt ? `, attempt ${detail.attempt}` : ""} ──`}</Text>
      {shown.length === 0 ? (
        <Text dimColor>
          {detail.search && detail.lines.length > 0
            ? `(no line has "${detail.search}": Esc clears the search)`
            : finished
              ? "(no output)"
              : "(no output yet)"}
        </Text>
      ) : (
        shown.map((line, i) => (
          <Text
            key={end - shown.length + i}
            wrap="truncate"
            color={line.stream === "stderr" ? tint("yellow") : undefined}
          >
            {line.text === "" ? " " : line.text}
          </Text>
        ))
      )}
    </Box>
  );
}
