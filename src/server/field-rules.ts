// The real Resonate server's rules on each request's fields (`#[validate]` on the data structs
// of src/types.rs at c8d7c7b; v0.9.8 has the same but for the empty heartbeat): an empty id, a
// TTL under 1, a negative version or deadline, an empty heartbeat. It answers 400 with these words, joined by "; "
// (types.rs:782-819), after the credentials are checked; so does this server, so that a
// client that works here does not meet the refusal first on the real one. The rules that tie
// ids to their lineage differ between the server's generations and are left to the checking
// proxy of the tests (test/helpers/protocol-profiles/).
import type { PromiseCreateData, Request } from "./protocol.ts";

type Check = [failed: boolean, message: string];

const PROMISE_ID = "Promise ID is required";
const TASK_ID = "Task ID is required";
const PID = "Process ID is required";
const VERSION = "Version must be a non-negative integer";
const TTL = "TTL must be a positive integer";

/** types.rs:268-316, less the lineage rules: what any promise.create must meet. */
function createChecks(d: PromiseCreateData): Check[] {
  return [
    [d.id === "", PROMISE_ID],
    [d.timeoutAt < 0, "TimeoutAt must be a non-negative integer"],
    [d.id.includes("\0"), "Promise ID must not contain null bytes"],
  ];
}

function callbackChecks(d: { awaited: string; awaiter: string }): Check[] {
  return [
    [d.awaited === "", "Awaited promise ID is required"],
    [d.awaiter === "", "Awaiter promise ID is required"],
  ];
}

function checksOf(req: Request): Check[] {
  switch (req.kind) {
    case "promise.get":
    case "promise.settle":
      return [[req.data.id === "", PROMISE_ID]];
    case "promise.create":
      return createChecks(req.data);
    case "promise.register_callback":
      return callbackChecks(req.data);
    case "promise.register_listener":
      return [
        [req.data.awaited === "", "Awaited promise ID is required"],
        [req.data.address === "", "Address is required"],
      ];
    case "task.get":
    case "task.halt":
    case "task.continue":
      return [[req.data.id === "", TASK_ID]];
    case "task.create":
      return [
        [req.data.pid === "", PID],
        [req.data.ttl < 1, TTL],
        ...createChecks(req.data.action.data),
      ];
    case "task.acquire":
      return [
        [req.data.id === "", TASK_ID],
        [req.data.version < 0, VERSION],
        [req.data.pid === "", PID],
        [req.data.ttl < 1, TTL],
      ];
    case "task.release":
      return [
        [req.data.id === "", TASK_ID],
        [req.data.version < 0, VERSION],
      ];
    case "task.suspend":
      return [
        [req.data.id === "", TASK_ID],
        [req.data.version < 0, VERSION],
        [req.data.actions.length === 0, "Actions array cannot be empty"],
        ...req.data.actions.flatMap((a) => callbackChecks(a.data)),
      ];
    case "task.fulfill":
      return [
        [req.data.id === "", TASK_ID],
        [req.data.version < 0, VERSION],
        [req.data.action.data.id === "", PROMISE_ID],
      ];
    case "task.fence": {
      const action = req.data.action;
      return [
        [req.data.id === "", TASK_ID],
        [req.data.version < 0, VERSION],
        // types.rs:549-555, in every generation: a fence guards other promises than its own.
        [action.data.id === req.data.id, "Action ID must not equal the task ID"],
        ...(action.kind === "promise.create"
          ? createChecks(action.data)
          : [[action.data.id === "", PROMISE_ID] as Check]),
      ];
    }
    case "task.heartbeat":
      return [
        [req.data.pid === "", PID],
        [req.data.tasks.length === 0, "Tasks array must not be empty"],
      ];
    case "schedule.get":
    case "schedule.delete":
      return [[req.data.id === "", "Schedule ID is required"]];
    case "schedule.create":
      return [
        [req.data.id === "", "Schedule ID is required"],
        [req.data.cron === "", "Cron expression is required"],
        [req.data.promiseId === "", "Promise ID template is required"],
        [req.data.promiseTimeout < 0, "Promise timeout must be a non-negative integer"],
      ];
    case "promise.search":
    case "task.search":
    case "schedule.search":
      // The limit's range is checked with the request's shape (validate.ts).
      return [];
  }
}

/** The real server's refusal of `req`'s fields, if it has one. */
export function fieldRefusal(req: Request): string | undefined {
  const failed = checksOf(req).filter(([fails]) => fails);
  return failed.length === 0 ? undefined : [...new Set(failed.map(([, m]) => m))].join("; ");
}
