import { Text } from "ink";
import { useTint, formatAge } from "./theme.ts";

/**
 * The bottom line: whether the server answers (and, while it does not, how old the data on
 * screen is), and the keys that matter here.
 */
export function StatusLine({
  url,
  loadedAt,
  error,
  now,
  hint,
  columns,
}: {
  url: string;
  loadedAt: number | undefined;
  error: string | undefined;
  now: number;
  hint: string;
  columns: number;
}) {
  const tint = useTint();
  if (error) {
    const age = loadedAt === undefined ? "no data yet" : `data ${formatAge(now - loadedAt)} old`;
    return (
      <Text wrap="truncate" color={tint("red")}>
        {`reconnecting to ${url} (${age}): ${error}`}
      </Text>
    );
  }
  // The keys come first: where both do not fit, the server's address gives way.
  const when = loadedAt === undefined ? "loading…" : url;
  const line = `${when}  ${hint}`;
  return (
    <Text wrap="truncate" dimColor>
      {line.length <= columns ? line : hint}
    </Text>
  );
}
