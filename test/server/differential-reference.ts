// The reference the differential tests hold modulate's server to: the SDK's in-memory server
// (node_modules/@resonatehq/sdk/dist/src/network/local.js), corrected where the real Resonate
// server at c8d7c7b (resonatehq/resonate, src/server.rs and src/persistence/) answers otherwise.
// modulate follows the real server (issue 14, item 6); each correction cites the lines it
// follows, so that a later SDK that agrees with the real server can drop it.
// Not in the SDK's exports map: imported by file path.
import {
  Server as SdkServer,
  type Change,
  type Promise as SdkPromise,
  type Task as SdkTask,
} from "../../node_modules/@resonatehq/sdk/dist/src/network/local.js";
import { isResponse } from "../../node_modules/@resonatehq/sdk/dist/src/network/types.js";
import type { Request } from "../../src/server/protocol.ts";

/** The SDK's own check of an answer (its HTTP client refuses any answer that fails it). */
export { SdkServer, isResponse };

export interface Answer {
  status: number;
  data: unknown;
}

export interface Applied {
  answer: Answer;
  changes: Change[];
}

/** The SDK server's own parts that the corrections use; all are plain JS at run time. */
interface Internals {
  promises: Map<string, SdkPromise>;
  tasks: Map<string, SdkTask>;
  projectedPromise(now: number, p: SdkPromise): SdkPromise;
  toPromiseRecord(p: SdkPromise): unknown;
  preload(id: string): unknown[];
  setTask(t: SdkTask): Change;
  setTTimeout(t: { id: string; type: 0 | 1; timeout: number }): Change;
  sendMessage(address: string, message: unknown): Change;
}

/** The real server's PENDING_RETRY_TTL (oracle.rs:21), as the SDK's (local.js:8). */
const PENDING_RETRY_MS = 30_000;

/** Real-server text where the SDK's in-memory server says the same thing in other words. */
const REAL_TEXT: Record<string, Record<string, string>> = {
  // server.rs:916
  "promise.register_listener": { "Promise not found": "Awaited promise not found" },
  // server.rs:820-825
  "promise.register_callback": {
    "Awaiter has no address": "Awaiter promise has no resonate:target tag",
  },
};

/** The SDK's in-memory server as it answers, untouched. */
export function applySdk(server: SdkServer, now: number, req: Request): Applied {
  const out = server.apply(now, req);
  return {
    answer: { status: out.response.head.status, data: out.response.data },
    changes: out.changes,
  };
}

/**
 * The real server routes only to these (transport/mod.rs:191-238) and refuses any other target
 * or listener address with 400 (server.rs:583-597, 882-893, 1112-1126, 1793-1806); the SDK's
 * in-memory server takes any string.
 */
function unroutable(address: string | undefined): boolean {
  if (address === undefined) return false;
  const url = URL.parse(address);
  if (!url) return true;
  if (["http:", "https:", "bash:"].includes(url.protocol)) return false;
  if (url.protocol === "poll:") return !["uni", "any"].includes(url.username) || !url.hostname;
  if (url.protocol === "gcps:") return !url.hostname || url.pathname.length <= 1;
  return true;
}

function refusedAddress(req: Request): string | undefined {
  const target = "Invalid resonate:target address";
  switch (req.kind) {
    case "promise.create":
      return unroutable(req.data.tags["resonate:target"]) ? target : undefined;
    case "task.create":
      return unroutable(req.data.action.data.tags["resonate:target"]) ? target : undefined;
    case "task.fence":
      return req.data.action.kind === "promise.create" &&
        unroutable(req.data.action.data.tags["resonate:target"])
        ? target
        : undefined;
    case "promise.register_listener":
      return unroutable(req.data.address) ? "Invalid listener address" : undefined;
    default:
      return undefined;
  }
}

/** The SDK's in-memory server, with the real server's answers where the two differ. */
export function applyReal(server: SdkServer, now: number, req: Request): Applied {
  const inner = server as unknown as Internals;
  const refused = refusedAddress(req);
  if (refused !== undefined) return { answer: { status: 400, data: refused }, changes: [] };
  const { answer, changes } = applySdk(server, now, req);
  const text = typeof answer.data === "string" ? REAL_TEXT[req.kind]?.[answer.data] : undefined;
  if (text !== undefined) answer.data = text;
  switch (req.kind) {
    case "promise.register_listener":
      // The real server takes a listener on any promise (server.rs:852-930; persistence_sqlite.rs
      // 607-620); the SDK's refuses one that is not "external" with 422 (local.js:371-375).
      if (answer.status === 422) {
        const p = inner.promises.get(req.data.awaited);
        if (p) {
          const view = inner.projectedPromise(now, p);
          if (view.state === "pending") p.listeners.add(req.data.address);
          return {
            answer: { status: 200, data: { promise: inner.toPromiseRecord(view) } },
            changes,
          };
        }
      }
      return { answer, changes };
    case "promise.register_callback":
      // A callback on a promise already settled resumes its awaiter at once: a suspended task
      // goes back to pending and is offered again, a pending or acquired one keeps the resume
      // (persistence_sqlite.rs:555-603, oracle.rs:404-434). The SDK's drops it (local.js:356-359).
      if (answer.status === 200) changes.push(...directResume(inner, now, req.data));
      return { answer, changes };
    case "task.suspend":
      // An awaited promise that does not exist: 422 with a message (server.rs:1688-1694); the
      // SDK's answers `{}` (local.js:674), which its own response check (types.js isTaskSuspendRes)
      // refuses.
      if (answer.status === 422) answer.data = "Awaited promise not found";
      return { answer, changes };
    case "task.fence":
      // The fence's answer carries the branch's promises as they are after the action
      // (server.rs:1876, 1960) and the inner answer's head carries the request's corrId
      // (server.rs:1873, 1957); the SDK's sends no preload and the action's own head
      // (local.js:758-762).
      if (answer.status === 200) {
        const data = answer.data as { action: { head: { status: number } }; preload: unknown[] };
        data.preload = inner.preload(req.data.id);
        data.action.head = {
          corrId: req.head.corrId,
          status: data.action.head.status,
          version: "2026-04-01",
        } as typeof data.action.head;
      }
      return { answer, changes };
    default:
      return { answer, changes };
  }
}

function directResume(
  inner: Internals,
  now: number,
  d: { awaited: string; awaiter: string },
): Change[] {
  const awaited = inner.promises.get(d.awaited);
  const awaiter = inner.promises.get(d.awaiter);
  const task = inner.tasks.get(d.awaiter);
  if (!awaited || !awaiter || !task) return [];
  if (inner.projectedPromise(now, awaited).state === "pending") return [];
  if (inner.projectedPromise(now, awaiter).state !== "pending") return [];
  if (task.state === "suspended") {
    const address = awaiter.tags["resonate:target"] ?? "";
    return [
      inner.setTask({ ...task, state: "pending", resumes: new Set([d.awaited]) }),
      inner.setTTimeout({ id: task.id, type: 0, timeout: now + PENDING_RETRY_MS }),
      inner.sendMessage(address, {
        kind: "execute",
        head: {},
        data: { task: { id: task.id, version: task.version } },
      }),
    ];
  }
  if (task.state === "pending" || task.state === "acquired") {
    task.resumes.add(d.awaited);
    return [inner.setTask(task)];
  }
  return [];
}

/** The messages a request or tick sent, as (address, message) pairs. */
export function sentMessages(changes: Change[]): { address: string; message: unknown }[] {
  return changes.flatMap((c) =>
    c.kind === "message.send" ? [{ address: c.address, message: c.message }] : [],
  );
}
