// The validation rules of the real Resonate server, one pure check each, cited to the line of
// the server's source it follows. A check reads one part of a request (a promise's create data,
// a callback, a task request's data) and answers the server's message when that part breaks the
// rule. The server returns these as 400 with the message as `data` (server.rs:574-581 and the
// same block in every op_*), having run the struct's `validate()` from the validator crate.
//
// Citations name the generation and file: `c8d7c7b types.rs:289` is resonatehq/resonate at
// c8d7c7ba, `v0.9.8 types.rs:285` the tag v0.9.8 (8c7c09a8), `sdk ids.js:63` SDK 0.11.5's
// dist/src. A `:`-generation rule that only the SDK attests is marked `inferred`.
import { str, tags, type Obj } from "./envelope.ts";
import type { Lineage } from "./lineage.ts";

export interface Rule {
  /** The server's validation code, e.g. `dot_in_origin`. */
  readonly code: string;
  /** Where each generation that has it says so. */
  readonly cites: readonly string[];
  /** True when no server source holds it: named and worded from what the SDK expects. */
  readonly inferred?: boolean;
  /** The server's message when `data` breaks the rule, else undefined. */
  check(data: Obj): string | undefined;
}

function rule(
  code: string,
  cites: string[],
  check: (data: Obj) => string | undefined,
  inferred = false,
): Rule {
  return inferred ? { code, cites, check, inferred } : { code, cites, check };
}

// --- promise.create data (also task.create's action and task.fence's promise.create) -------

export const nullBytes = rule(
  "null_bytes",
  ["c8d7c7b types.rs:285-288", "v0.9.8 types.rs:285-288"],
  (d) =>
    (str(d, "id") ?? "").includes("\0") ? "Promise ID must not contain null bytes" : undefined,
);

/** The origin tag holds no separator: c8d7c7b `dot_in_origin`, the `:` generation `colon_in_origin`. */
export function reservedInOrigin(lineage: Lineage): Rule {
  if (lineage.name === "dot") {
    return rule("dot_in_origin", ["c8d7c7b types.rs:289-293"], (d) =>
      tags(d)["resonate:origin"]?.includes(".")
        ? "resonate:origin must not contain '.'"
        : undefined,
    );
  }
  // Named in sdk ids.js:63 ("The server rejects it outright (`colon_in_origin`)"); the message
  // is c8d7c7b's with ':' for '.', since no source of that server is at hand.
  return rule(
    "colon_in_origin",
    ["sdk ids.js:57-63", "sdk ids.js:74-85 (validateRootId)"],
    (d) =>
      tags(d)["resonate:origin"]?.includes(":")
        ? "resonate:origin must not contain ':'"
        : undefined,
    true,
  );
}

function prefixRule(lineage: Lineage, tag: string, code: string, dotCite: string): Rule {
  const cites =
    lineage.name === "dot" ? [dotCite] : ["sdk ids.js:29-45 (joinId)", "sdk context.js:372-378"];
  return rule(
    code,
    cites,
    (d) => {
      const ancestor = tags(d)[`resonate:${tag}`];
      const id = str(d, "id") ?? "";
      if (ancestor === undefined || lineage.extendsId(id, ancestor)) return undefined;
      return `Promise ID must be prefixed by resonate:${tag}`;
    },
    lineage.name === "colon",
  );
}

export const originPrefix = (l: Lineage): Rule =>
  prefixRule(l, "origin", "origin_prefix", "c8d7c7b types.rs:294-297");
export const branchPrefix = (l: Lineage): Rule =>
  prefixRule(l, "branch", "branch_prefix", "c8d7c7b types.rs:299-304");
export const parentPrefix = (l: Lineage): Rule =>
  prefixRule(l, "parent", "parent_prefix", "c8d7c7b types.rs:305-310");

export const dotInPrefix = rule("dot_in_prefix", ["c8d7c7b types.rs:311-316"], (d) =>
  tags(d)["resonate:prefix"]?.includes(".") ? "resonate:prefix must not contain '.'" : undefined,
);

/** `resonate:delay`: a non-negative integer, before `timeoutAt`, on a promise with a target. */
export const delayRules: Rule[] = [
  rule("invalid_delay", ["c8d7c7b types.rs:317-325"], (d) => {
    const delay = tags(d)["resonate:delay"];
    if (delay === undefined) return undefined;
    // Rust's i64 `parse()`: optional '+', ASCII digits, no spaces (a '-' fails the >= 0 filter).
    return /^\+?[0-9]+$/.test(delay) ? undefined : "resonate:delay must be a non-negative integer";
  }),
  rule("delay_exceeds_timeout", ["c8d7c7b types.rs:326-329"], (d) => {
    const delay = tags(d)["resonate:delay"];
    const timeoutAt = d["timeoutAt"];
    if (delay === undefined || typeof timeoutAt !== "number") return undefined;
    return Number(delay) >= timeoutAt ? "resonate:delay must be less than timeoutAt" : undefined;
  }),
  rule("delay_without_target", ["c8d7c7b types.rs:330-333"], (d) => {
    const t = tags(d);
    return t["resonate:delay"] !== undefined && t["resonate:target"] === undefined
      ? "resonate:delay requires a resonate:target tag"
      : undefined;
  }),
];

// --- promise.register_callback data (also each of task.suspend's actions) ------------------

export const awaitedEqualsAwaiter = rule(
  "awaited_equals_awaiter",
  ["c8d7c7b types.rs:363-366", "v0.9.8 types.rs:313-316"],
  (d) =>
    str(d, "awaited") === str(d, "awaiter")
      ? "Awaited and awaiter must be different promises"
      : undefined,
);

export function callbackOrigin(lineage: Lineage): Rule {
  const cites =
    lineage.name === "dot"
      ? ["c8d7c7b types.rs:367-370"]
      : ["sdk ids.js:9-10", "sdk core.js:109-121"];
  return rule(
    "origin_mismatch",
    cites,
    (d) =>
      lineage.origin(str(d, "awaiter") ?? "") !== lineage.origin(str(d, "awaited") ?? "")
        ? "Awaiter and awaited must belong to the same origin"
        : undefined,
    lineage.name === "colon",
  );
}

// --- task requests -------------------------------------------------------------------------

/** task.create: its action's promise must name a target; c8d7c7b also forbids a delay there. */
export const taskCreateTarget = rule(
  "missing_target",
  ["c8d7c7b types.rs:409-412", "v0.9.8 types.rs:355-358"],
  (d) => {
    const action = d["action"] as Obj | undefined;
    return tags(action?.["data"] as Obj | undefined)["resonate:target"] === undefined
      ? "Action must have a resonate:target tag"
      : undefined;
  },
);

export const delayInTaskAction = rule("delay_in_task_action", ["c8d7c7b types.rs:413-416"], (d) => {
  const action = d["action"] as Obj | undefined;
  return tags(action?.["data"] as Obj | undefined)["resonate:delay"] !== undefined
    ? "Action must not have a resonate:delay tag"
    : undefined;
});

/**
 * task.suspend, per action: this task awaits another promise (of its own origin, from c8d7c7b).
 * Each rule reads `{taskId, awaiter, awaited}`; the server runs all of them on one action before
 * the next (types.rs:473-489), which `check.ts` follows.
 */
export function suspendActionRules(lineage: Lineage | undefined): Rule[] {
  const rules = [
    rule("awaiter_mismatch", ["c8d7c7b types.rs:474-477", "v0.9.8 types.rs:416-419"], (a) =>
      str(a, "awaiter") !== str(a, "taskId")
        ? "All action awaiter IDs must match the task ID"
        : undefined,
    ),
    rule("awaited_is_self", ["c8d7c7b types.rs:478-481", "v0.9.8 types.rs:420-423"], (a) =>
      str(a, "awaited") === str(a, "taskId")
        ? "Action awaited promise must not equal the task ID"
        : undefined,
    ),
  ];
  if (lineage === undefined) return rules;
  const cites = lineage.name === "dot" ? ["c8d7c7b types.rs:482-488"] : ["sdk ids.js:9-10"];
  const sameOrigin = rule(
    "origin_mismatch",
    cites,
    (a) =>
      lineage.origin(str(a, "awaited") ?? "") !== lineage.origin(str(a, "taskId") ?? "")
        ? "Awaited promise must belong to the same origin as the task"
        : undefined,
    lineage.name === "colon",
  );
  return [...rules, sameOrigin];
}

export const fulfillActionId = rule(
  "action_id_mismatch",
  ["c8d7c7b types.rs:524-527", "v0.9.8 types.rs:459-462"],
  (d) => {
    const action = d["action"] as Obj | undefined;
    return str(action?.["data"] as Obj | undefined, "id") !== str(d, "id")
      ? "Action ID must match the task ID"
      : undefined;
  },
);

export const fenceActionId = rule(
  "action_id_equals_task_id",
  ["c8d7c7b types.rs:550-555", "v0.9.8 types.rs:486-489"],
  (d) => {
    const action = d["action"] as Obj | undefined;
    const actionId = str(action?.["data"] as Obj | undefined, "id");
    return actionId !== undefined && actionId === str(d, "id")
      ? "Action ID must not equal the task ID"
      : undefined;
  },
);

/** task.heartbeat: every task of one batch shares the first one's origin (c8d7c7b). */
export const heartbeatOrigin = (lineage: Lineage): Rule =>
  rule("origin_mismatch", ["c8d7c7b types.rs:577-585"], (d) => {
    const ids = (Array.isArray(d["tasks"]) ? d["tasks"] : []).map((t) => str(t as Obj, "id") ?? "");
    const first = ids[0];
    if (first === undefined) return undefined;
    const origin = lineage.origin(first);
    return ids.some((id) => lineage.origin(id) !== origin)
      ? "All tasks must belong to the same origin"
      : undefined;
  });

// --- schedule.create -----------------------------------------------------------------------

export const scheduleIdReserved = (lineage: Lineage): Rule =>
  lineage.name === "dot"
    ? rule("dot_in_schedule_id", ["c8d7c7b types.rs:637-640"], (d) =>
        (str(d, "id") ?? "").includes(".") ? "Schedule ID must not contain '.'" : undefined,
      )
    : // sdk resonate.js:283-290: a schedule's name "is bound by the same rules as a run/rpc id"
      // (validateRootId: no ':'); the code and message are this module's, by analogy.
      rule(
        "colon_in_schedule_id",
        ["sdk resonate.js:283-290"],
        (d) =>
          (str(d, "id") ?? "").includes(":") ? "Schedule ID must not contain ':'" : undefined,
        true,
      );

export const scheduleTarget = rule("missing_target", ["c8d7c7b types.rs:641-644"], (d) =>
  tags(d, "promiseTags")["resonate:target"] === undefined
    ? "promiseTags must include a resonate:target tag"
    : undefined,
);
