// Reading SQLite's rows back into typed values, shared by the tables of the store.
import type { SQLInputValue } from "node:sqlite";

export type Row = Record<string, SQLInputValue>;

/** Columns that hold text or numbers; a blob here would be a corrupt store. */
export function asText(value: SQLInputValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return value.toString();
  throw new Error(`store holds ${value === null ? "null" : "a blob"} where text was expected`);
}

export function json<T>(value: SQLInputValue): T {
  return JSON.parse(asText(value)) as T;
}

/** The tag filter of a search: every given key/value pair must be among the row's tags. */
export const TAGS_MATCH = (column: string): string =>
  `(? IS NULL OR NOT EXISTS (SELECT key, value FROM json_each(?) EXCEPT SELECT key, value FROM json_each(${column})))`;
