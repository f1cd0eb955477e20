// The Resonate protocol as modulate's server speaks it: `POST /` carries an envelope
// {kind, head: {corrId, version, auth?}, data}, answered {kind, head: {corrId, status, version},
// data}. These types are the server's own statement of the protocol (it never loads the SDK
// at run time); the differential test holds them to the SDK's reference server.

export const PROTOCOL_VERSION = "2026-04-01";

export type PromiseState =
  "pending" | "resolved" | "rejected" | "rejected_canceled" | "rejected_timedout";
export type TaskState = "pending" | "acquired" | "suspended" | "halted" | "fulfilled";

export interface Value {
  headers?: Record<string, string>;
  data?: unknown;
}

export interface PromiseRecord {
  id: string;
  state: PromiseState;
  param: Value;
  value: Value;
  tags: Record<string, string>;
  timeoutAt: number;
  createdAt: number;
  settledAt?: number;
}

export interface TaskRecord {
  id: string;
  state: TaskState;
  version: number;
  /** Promise ids that resumed the task; task.search reports a count, as the real server does. */
  resumes: string[] | number;
  ttl?: number;
  pid?: string;
}

export interface ScheduleRecord {
  id: string;
  cron: string;
  promiseId: string;
  promiseTimeout: number;
  promiseParam: Value;
  promiseTags: Record<string, string>;
  createdAt: number;
  nextRunAt: number;
  lastRunAt?: number;
}

export interface ExecuteMessage {
  kind: "execute";
  head: Record<string, string>;
  data: { task: { id: string; version: number } };
}
export interface UnblockMessage {
  kind: "unblock";
  head: Record<string, string>;
  data: { promise: PromiseRecord };
}
export type Message = ExecuteMessage | UnblockMessage;

/** A message the state machine wants sent, to a `poll://` address. */
export interface Outgoing {
  address: string;
  message: Message;
}

export interface PromiseCreateData {
  id: string;
  timeoutAt: number;
  param: Value;
  tags: Record<string, string>;
}
export interface PromiseSettleData {
  id: string;
  state: "resolved" | "rejected" | "rejected_canceled";
  value: Value;
}
export interface CallbackData {
  awaited: string;
  awaiter: string;
}

type Head = { corrId: string; version: string; auth?: string };
type Req<K extends string, D> = { kind: K; head: Head; data: D };

export type PromiseCreateRequest = Req<"promise.create", PromiseCreateData>;
export type PromiseSettleRequest = Req<"promise.settle", PromiseSettleData>;
export type RegisterCallbackRequest = Req<"promise.register_callback", CallbackData>;

/**
 * A request as validate.ts hands it on. A search's `cursor` is by then the id its page starts
 * after: on the wire it is the opaque text `encodeCursor` made, decoded during validation.
 */
export type Request =
  | Req<"promise.get", { id: string }>
  | PromiseCreateRequest
  | PromiseSettleRequest
  | RegisterCallbackRequest
  | Req<"promise.register_listener", { awaited: string; address: string }>
  | Req<
      "promise.search",
      { state?: PromiseState; tags?: Record<string, string>; limit?: number; cursor?: string }
    >
  | Req<"task.get", { id: string }>
  | Req<"task.create", { pid: string; ttl: number; action: PromiseCreateRequest }>
  | Req<"task.acquire", { id: string; version: number; pid: string; ttl: number }>
  | Req<"task.release", { id: string; version: number }>
  | Req<"task.suspend", { id: string; version: number; actions: RegisterCallbackRequest[] }>
  | Req<"task.halt", { id: string }>
  | Req<"task.continue", { id: string }>
  | Req<"task.fulfill", { id: string; version: number; action: PromiseSettleRequest }>
  | Req<
      "task.fence",
      { id: string; version: number; action: PromiseCreateRequest | PromiseSettleRequest }
    >
  | Req<"task.heartbeat", { pid: string; tasks: { id: string; version: number }[] }>
  | Req<"task.search", { state?: TaskState; limit?: number; cursor?: string }>
  | Req<"schedule.get", { id: string }>
  | Req<
      "schedule.create",
      {
        id: string;
        cron: string;
        promiseId: string;
        promiseTimeout: number;
        promiseParam: Value;
        promiseTags: Record<string, string>;
      }
    >
  | Req<"schedule.delete", { id: string }>
  | Req<"schedule.search", { tags?: Record<string, string>; limit?: number; cursor?: string }>;

export type RequestKind = Request["kind"];

/** The status codes the SDK reads as answers; anything else it treats as a network fault. */
export type Status = 200 | 300 | 400 | 401 | 403 | 404 | 408 | 409 | 413 | 422 | 429 | 500 | 501;

/** A response before the head is filled in: status and data, as the state machine returns. */
export interface Reply {
  status: Status;
  data: unknown;
}

export interface ResponseEnvelope {
  kind: string;
  head: { corrId: string; status: Status; version: string };
  data: unknown;
}

/**
 * The corrId of an answer to a request whose own cannot be read (not JSON, no head.corrId), as
 * the real server writes it (server.rs:154-174).
 */
export const UNKNOWN_CORR_ID = "0";

/**
 * A reply's data already encoded as JSON text (a search's page, whose promises are stored as
 * text): the envelope is written around it, and it is never parsed on the way out.
 */
export class EncodedData {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

export function envelope(kind: string, corrId: string, reply: Reply): ResponseEnvelope {
  return {
    kind,
    head: { corrId, status: reply.status, version: PROTOCOL_VERSION },
    data: reply.data,
  };
}

// A search cursor is opaque to clients: the id the next page starts after, base64url-encoded
// behind a version prefix, so that a cursor this server did not issue can be refused (400)
// instead of silently reading as an id and answering an empty or shifted page.
const CURSOR_PREFIX = "c1.";

/** The cursor that continues a search after the row with id `lastId`. */
export function encodeCursor(lastId: string): string {
  return CURSOR_PREFIX + Buffer.from(lastId, "utf8").toString("base64url");
}

const cursorUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The id a cursor continues after, or undefined where it is not one `encodeCursor` made. */
export function decodeCursor(cursor: string): string | undefined {
  if (!cursor.startsWith(CURSOR_PREFIX)) return undefined;
  const encoded = cursor.slice(CURSOR_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, "base64url");
  let lastId: string;
  try {
    lastId = cursorUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  // Only the canonical encoding: trailing bits that base64url ignores would make a second
  // spelling of the same cursor.
  return encodeCursor(lastId) === cursor ? lastId : undefined;
}
