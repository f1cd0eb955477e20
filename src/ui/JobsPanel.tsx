import { Box, Text } from "ink";
import type { OutstandingJob } from "../orchestration/snapshot.ts";
import { formatDuration } from "../common/units.ts";

const STATE_COLOR = { running: "green", queued: "yellow", routing: "cyan" } as const;

/** Unfinished jobs of one group, oldest first, with how long each has waited or run. */
export function JobsPanel({ jobs, now }: { jobs: readonly OutstandingJob[]; now: number }) {
  return (
    <Box flexDirection="column">
      <Text bold>Outstanding jobs ({jobs.length})</Text>
      {jobs.length === 0 ? (
        <Text dimColor>none</Text>
      ) : (
        jobs.map((j) => (
          <Text key={j.id}>
            <Text color={STATE_COLOR[j.state]}>{j.state.padEnd(8)}</Text>
            {` ${j.id.padEnd(28)} ${j.script.padEnd(20)} ${formatDuration(Math.max(0, now - j.submittedAt)).padStart(6)}${j.worker ? `  on ${j.worker}` : ""}`}
          </Text>
        ))
      )}
    </Box>
  );
}
