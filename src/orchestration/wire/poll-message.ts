// Which events of a poll stream are protocol messages: `execute` (a task to claim) and
// `unblock` (a promise settled). Checked here rather than with the SDK's guard because
// importing any value from the SDK loads all of it, and cron-parser with it: half a megabyte
// that every `modulate submit` would compile and run before it sends anything. Pure.
import type { Message, PromiseRecord } from "@resonatehq/sdk";

const PROMISE_STATES: ReadonlySet<unknown> = new Set([
  "pending",
  "resolved",
  "rejected",
  "rejected_canceled",
  "rejected_timedout",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** A promise's param or value: optional headers (an object) and optional data (text). */
function isEncodedValue(value: unknown): boolean {
  return (
    isObject(value) &&
    (value["headers"] === undefined || isObject(value["headers"])) &&
    (value["data"] === undefined || typeof value["data"] === "string")
  );
}

function isPromiseRecord(value: unknown): value is PromiseRecord {
  return (
    isObject(value) &&
    typeof value["id"] === "string" &&
    PROMISE_STATES.has(value["state"]) &&
    isEncodedValue(value["param"]) &&
    isEncodedValue(value["value"]) &&
    isObject(value["tags"]) &&
    typeof value["timeoutAt"] === "number" &&
    typeof value["createdAt"] === "number" &&
    (value["settledAt"] === undefined || typeof value["settledAt"] === "number")
  );
}

/** `head` may name the server that sent it; nothing else is required of it. */
function hasMessageHead(value: Record<string, unknown>): boolean {
  const head = value["head"];
  return (
    isObject(head) && (head["serverUrl"] === undefined || typeof head["serverUrl"] === "string")
  );
}

export function isPollMessage(value: unknown): value is Message {
  if (!isObject(value) || !hasMessageHead(value) || !isObject(value["data"])) return false;
  const data = value["data"];
  if (value["kind"] === "unblock") return isPromiseRecord(data["promise"]);
  if (value["kind"] !== "execute") return false;
  const task = data["task"];
  return isObject(task) && typeof task["id"] === "string" && typeof task["version"] === "number";
}
