import { Box, Text } from "ink";
import type { WorkerView } from "../orchestration/presence.ts";

export function WorkersPanel({ workers }: { workers: readonly WorkerView[] }) {
  return (
    <Box flexDirection="column">
      <Text bold>Workers ({workers.length})</Text>
      {workers.length === 0 ? (
        <Text dimColor>none alive in this group</Text>
      ) : (
        workers.map((w) => (
          <Text key={w.pid}>
            {`${w.host.padEnd(16)} ${w.pid.padEnd(32)} ${w.busy}/${w.slots} busy`}
          </Text>
        ))
      )}
    </Box>
  );
}
