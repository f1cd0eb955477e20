// Checks a parsed body against the protocol before anything reads it: a bad request gets a
// 400 naming the field, and the state machine only ever sees well-typed requests.
import {
  UNKNOWN_CORR_ID,
  decodeCursor,
  type CallbackData,
  type PromiseCreateRequest,
  type PromiseSettleRequest,
  type PromiseState,
  type RegisterCallbackRequest,
  type Request,
  type TaskState,
  type Value,
} from "./protocol.ts";

/** Thrown inside validation; caught once in `parseRequest` and turned into its reason. */
class Invalid extends Error {}

type Obj = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `"${value.slice(0, 40)}"` : typeof value;
}

function fail(path: string, expected: string, found: unknown): never {
  throw new Invalid(`${path} must be ${expected}, got ${describe(found)}`);
}

function obj(value: unknown, path: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, "an object", value);
  }
  return value as Obj;
}

/**
 * SQLite stores text as UTF-8, where a lone surrogate (`"\ud800"` in JSON) becomes U+FFFD: two
 * different ids would become one promise. Such text is refused rather than altered.
 */
function wellFormed(text: string, path: string): string {
  if (!text.isWellFormed()) {
    throw new Invalid(
      `${path} must be well-formed Unicode text, got a lone surrogate in ${describe(text.toWellFormed())}: send UTF-8 text`,
    );
  }
  return text;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") fail(`${path}.${key}`, "a string", v);
  return wellFormed(v, `${path}.${key}`);
}

function int(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(`${path}.${key}`, "an integer", v);
  return v;
}

function optional<T>(
  o: Obj,
  key: string,
  read: (o: Obj, key: string, path: string) => T,
  path: string,
): T | undefined {
  return o[key] === undefined || o[key] === null ? undefined : read(o, key, path);
}

function stringRecord(o: Obj, key: string, path: string): Record<string, string> {
  const record = obj(o[key], `${path}.${key}`);
  for (const [k, v] of Object.entries(record)) {
    wellFormed(k, `${path}.${key} key ${describe(k.toWellFormed())}`);
    if (typeof v !== "string") fail(`${path}.${key}.${k}`, "a string", v);
    wellFormed(v, `${path}.${key}.${k}`);
  }
  return record as Record<string, string>;
}

function value(o: Obj, key: string, path: string): Value {
  if (o[key] === undefined || o[key] === null) return {};
  const v = obj(o[key], `${path}.${key}`);
  const headers = optional(v, "headers", stringRecord, `${path}.${key}`);
  return headers === undefined ? { data: v["data"] } : { headers, data: v["data"] };
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (o: Obj, key: string, path: string): T => {
    const v = str(o, key, path);
    if (!(allowed as readonly string[]).includes(v))
      fail(`${path}.${key}`, `one of ${allowed.join(", ")}`, v);
    return v as T;
  };
}

const PROMISE_STATES = [
  "pending",
  "resolved",
  "rejected",
  "rejected_canceled",
  "rejected_timedout",
] as const;
const SETTLE_STATES = ["resolved", "rejected", "rejected_canceled"] as const;
const TASK_STATES = ["pending", "acquired", "suspended", "halted", "fulfilled"] as const;

function head(o: Obj, path: string): { corrId: string; version: string; auth?: string } {
  const h = obj(o["head"], `${path}.head`);
  const auth = optional(h, "auth", str, `${path}.head`);
  const corrId = str(h, "corrId", `${path}.head`);
  const version = str(h, "version", `${path}.head`);
  return auth === undefined ? { corrId, version } : { corrId, version, auth };
}

function nested(
  o: Obj,
  key: string,
  path: string,
  kind: string,
): { h: ReturnType<typeof head>; d: Obj; p: string } {
  const inner = obj(o[key], `${path}.${key}`);
  const p = `${path}.${key}`;
  if (inner["kind"] !== kind) fail(`${p}.kind`, `"${kind}"`, inner["kind"]);
  return { h: head(inner, p), d: obj(inner["data"], `${p}.data`), p: `${p}.data` };
}

function promiseCreate(o: Obj, key: string, path: string): PromiseCreateRequest {
  const { h, d, p } = nested(o, key, path, "promise.create");
  return { kind: "promise.create", head: h, data: promiseCreateData(d, p) };
}

function promiseCreateData(d: Obj, p: string): PromiseCreateRequest["data"] {
  return {
    id: str(d, "id", p),
    timeoutAt: int(d, "timeoutAt", p),
    param: value(d, "param", p),
    tags: optional(d, "tags", stringRecord, p) ?? {},
  };
}

function promiseSettleData(d: Obj, p: string): PromiseSettleRequest["data"] {
  return {
    id: str(d, "id", p),
    state: oneOf(SETTLE_STATES)(d, "state", p),
    value: value(d, "value", p),
  };
}

function promiseSettle(o: Obj, key: string, path: string): PromiseSettleRequest {
  const { h, d, p } = nested(o, key, path, "promise.settle");
  return { kind: "promise.settle", head: h, data: promiseSettleData(d, p) };
}

function callbackData(d: Obj, p: string): CallbackData {
  return { awaited: str(d, "awaited", p), awaiter: str(d, "awaiter", p) };
}

function limitCursor(d: Obj, p: string): { limit?: number; cursor?: string } {
  const limit = optional(d, "limit", int, p);
  if (limit !== undefined && (limit < 1 || limit > 1000)) {
    throw new Invalid(`${p}.limit must be between 1 and 1000, got ${limit}`);
  }
  const given = optional(d, "cursor", str, p);
  // Handed on decoded: from here on, `cursor` is the id the page starts after.
  const cursor = given === undefined ? undefined : decodeCursor(given);
  if (given !== undefined && cursor === undefined) {
    throw new Invalid(
      `${p}.cursor ${describe(given)} is not a cursor this server issued: pass back the cursor of the previous page unchanged, or none for the first page`,
    );
  }
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

type Parser = (d: Obj, p: string, body: Obj) => Request["data"];

const PARSERS: Record<Request["kind"], Parser> = {
  "promise.get": (d, p) => ({ id: str(d, "id", p) }),
  "promise.create": (d, p) => promiseCreateData(d, p),
  "promise.settle": (d, p) => promiseSettleData(d, p),
  "promise.register_callback": (d, p) => callbackData(d, p),
  "promise.register_listener": (d, p) => ({
    awaited: str(d, "awaited", p),
    address: str(d, "address", p),
  }),
  "promise.search": (d, p) =>
    withoutUndefined({
      state: optional<PromiseState>(d, "state", oneOf(PROMISE_STATES), p),
      tags: optional(d, "tags", stringRecord, p),
      ...limitCursor(d, p),
    }),
  "task.get": (d, p) => ({ id: str(d, "id", p) }),
  "task.create": (d, p) => ({
    pid: str(d, "pid", p),
    ttl: int(d, "ttl", p),
    action: promiseCreate(d, "action", p),
  }),
  "task.acquire": (d, p) => ({
    id: str(d, "id", p),
    version: int(d, "version", p),
    pid: str(d, "pid", p),
    ttl: int(d, "ttl", p),
  }),
  "task.release": (d, p) => ({ id: str(d, "id", p), version: int(d, "version", p) }),
  "task.suspend": (d, p) => {
    const actions = d["actions"];
    if (!Array.isArray(actions)) fail(`${p}.actions`, "an array", actions);
    return {
      id: str(d, "id", p),
      version: int(d, "version", p),
      actions: actions.map((_, i): RegisterCallbackRequest => {
        const {
          h,
          d: ad,
          p: ap,
        } = nested(
          actions as unknown as Obj,
          String(i),
          `${p}.actions`,
          "promise.register_callback",
        );
        return { kind: "promise.register_callback", head: h, data: callbackData(ad, ap) };
      }),
    };
  },
  "task.halt": (d, p) => ({ id: str(d, "id", p) }),
  "task.continue": (d, p) => ({ id: str(d, "id", p) }),
  "task.fulfill": (d, p) => ({
    id: str(d, "id", p),
    version: int(d, "version", p),
    action: promiseSettle(d, "action", p),
  }),
  "task.fence": (d, p) => {
    const action = obj(d["action"], `${p}.action`);
    return {
      id: str(d, "id", p),
      version: int(d, "version", p),
      action:
        action["kind"] === "promise.create"
          ? promiseCreate(d, "action", p)
          : promiseSettle(d, "action", p),
    };
  },
  "task.heartbeat": (d, p) => {
    const tasks = d["tasks"];
    if (!Array.isArray(tasks)) fail(`${p}.tasks`, "an array", tasks);
    return {
      pid: str(d, "pid", p),
      tasks: tasks.map((t, i) => {
        const to = obj(t, `${p}.tasks[${i}]`);
        return {
          id: str(to, "id", `${p}.tasks[${i}]`),
          version: int(to, "version", `${p}.tasks[${i}]`),
        };
      }),
    };
  },
  "task.search": (d, p) =>
    withoutUndefined({
      state: optional<TaskState>(d, "state", oneOf(TASK_STATES), p),
      ...limitCursor(d, p),
    }),
  "schedule.get": (d, p) => ({ id: str(d, "id", p) }),
  "schedule.create": (d, p) => ({
    id: str(d, "id", p),
    cron: str(d, "cron", p),
    promiseId: str(d, "promiseId", p),
    promiseTimeout: int(d, "promiseTimeout", p),
    promiseParam: value(d, "promiseParam", p),
    promiseTags: optional(d, "promiseTags", stringRecord, p) ?? {},
  }),
  "schedule.delete": (d, p) => ({ id: str(d, "id", p) }),
  "schedule.search": (d, p) =>
    withoutUndefined({ tags: optional(d, "tags", stringRecord, p), ...limitCursor(d, p) }),
};

const REQUEST_KINDS = Object.keys(PARSERS) as readonly Request["kind"][];

export type Parsed =
  { ok: true; request: Request } | { ok: false; kind: string; corrId: string; reason: string };

/** Validates a parsed JSON body; on failure says which field is wrong and how. */
export function parseRequest(body: unknown): Parsed {
  const raw = typeof body === "object" && body !== null ? (body as Obj) : {};
  const kind = typeof raw["kind"] === "string" ? raw["kind"] : "unknown";
  const rawHead =
    typeof raw["head"] === "object" && raw["head"] !== null ? (raw["head"] as Obj) : {};
  const corrId = typeof rawHead["corrId"] === "string" ? rawHead["corrId"] : UNKNOWN_CORR_ID;
  try {
    const envelope = obj(body, "request");
    // Own keys only: "constructor" or "toString" must not find Object.prototype's.
    const parser = Object.hasOwn(PARSERS, kind) ? PARSERS[kind as Request["kind"]] : undefined;
    if (parser === undefined) {
      throw new Invalid(
        `unknown kind ${describe(envelope["kind"])}: expected one of ${REQUEST_KINDS.join(", ")}`,
      );
    }
    const h = head(envelope, "request");
    const data = parser(obj(envelope["data"], "data"), "data", envelope);
    return { ok: true, request: { kind, head: h, data } as Request };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, kind, corrId, reason: error.message };
    throw error;
  }
}
