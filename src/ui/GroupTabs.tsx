import { Box, Text } from "ink";
import type { GroupView } from "./dashboard-state.ts";

/** One tab per group: its name, busy/total slots and outstanding jobs. */
export function GroupTabs({
  groups,
  selected,
}: {
  groups: readonly GroupView[];
  selected: string | undefined;
}) {
  if (groups.length === 0)
    return <Text dimColor>no worker groups yet: start one with modulate worker --group NAME</Text>;
  return (
    <Box gap={2}>
      {groups.map((g) => (
        <Text key={g.name} inverse={g.name === selected} bold={g.name === selected}>
          {` ${g.name} ${g.busy}/${g.slots} slots, ${g.jobs.length} jobs `}
        </Text>
      ))}
    </Box>
  );
}
