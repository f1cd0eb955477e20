import { Box, Text } from "ink";
import { helpSections } from "./keymap.ts";
import { cell } from "./theme.ts";

/** Every key, from the one keymap table; in two columns where the screen is wide enough. */
export function HelpOverlay({ columns }: { columns: number }) {
  const sections = helpSections().filter((s) => s.rows.length > 0);
  const lines = sections.flatMap((s) => [
    { key: `${s.title}`, text: s.title, bold: true },
    ...s.rows.map((r) => ({
      key: `${s.title}-${r.keys}-${r.description}`,
      text: `  ${cell(r.keys, 7)} ${r.description}`,
      bold: false,
    })),
  ]);
  const twoColumns = columns >= 80;
  const half = Math.ceil(lines.length / 2);
  const columnsOf = twoColumns ? [lines.slice(0, half), lines.slice(half)] : [lines];
  return (
    <Box flexDirection="column" flexGrow={1}>
      <Text bold wrap="truncate">
        Keys (Esc or ? closes)
      </Text>
      <Box>
        {columnsOf.map((column, c) => (
          <Box
            key={c}
            flexDirection="column"
            width={twoColumns ? Math.floor(columns / 2) : columns}
          >
            {column.map((l) => (
              <Text key={l.key} bold={l.bold} wrap="truncate">
                {l.text}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
