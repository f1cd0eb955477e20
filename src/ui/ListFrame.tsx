import { Box, Text } from "ink";
import type { ReactNode } from "react";

/** A list's header line and its rows: only those on screen are rendered. */
export function ListFrame({
  header,
  empty,
  count,
  children,
}: {
  header: string;
  empty: string;
  count: number;
  children: ReactNode;
}) {
  return (
    <Box flexDirection="column" flexGrow={1}>
      <Text bold wrap="truncate">
        {header}
      </Text>
      {count === 0 ? (
        <Text dimColor wrap="truncate">
          {empty}
        </Text>
      ) : (
        children
      )}
    </Box>
  );
}
