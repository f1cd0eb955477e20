import { Text } from "ink";
import { KEY_HELP } from "./keymap.ts";

export function StatusLine({
  url,
  updatedAt,
  error,
}: {
  url: string;
  updatedAt: number | undefined;
  error: string | undefined;
}) {
  if (error) return <Text color="red">{`${url}: ${error}  (${KEY_HELP})`}</Text>;
  const when =
    updatedAt === undefined ? "loading…" : `updated ${new Date(updatedAt).toLocaleTimeString()}`;
  return <Text dimColor>{`${url}  ${when}  ${KEY_HELP}`}</Text>;
}
