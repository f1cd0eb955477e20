// Values in promises, encoded as the SDK encodes them (base64 of UTF-8 JSON), so that
// modulate's client reads and writes what routers and workers running the SDK read and
// write, without loading the SDK.

export interface EncodedValue {
  headers: Record<string, string>;
  data: string;
}

// The SDK writes infinities as these markers, since JSON has no infinity.
const INFINITY = "__INF__";
const NEGATIVE_INFINITY = "__NEG_INF__";

export function encodeValue(value: unknown): EncodedValue {
  if (value === undefined) return { headers: {}, data: "" };
  const json = JSON.stringify(value, (_key, v: unknown) =>
    v === Number.POSITIVE_INFINITY
      ? INFINITY
      : v === Number.NEGATIVE_INFINITY
        ? NEGATIVE_INFINITY
        : v,
  );
  return { headers: {}, data: Buffer.from(json, "utf8").toString("base64") };
}

export function decodeValue(
  value: { headers?: Record<string, string>; data?: unknown } | undefined,
): unknown {
  if (!value || typeof value.data !== "string" || value.data === "") return undefined;
  const json = Buffer.from(value.data, "base64").toString("utf8");
  // A reviver makes parsing several times slower: only text that holds a marker needs one.
  if (!json.includes(INFINITY) && !json.includes(NEGATIVE_INFINITY)) return JSON.parse(json);
  return JSON.parse(json, (_key, v: unknown) =>
    v === INFINITY
      ? Number.POSITIVE_INFINITY
      : v === NEGATIVE_INFINITY
        ? Number.NEGATIVE_INFINITY
        : v,
  );
}
