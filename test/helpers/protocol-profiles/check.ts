// Applies a profile to one request, in the order the real server checks it, and answers the
// first refusal: the version in handle_api (server.rs:227), then each op's `validate()`, where
// the validator crate runs nested structs' rules before a struct's own schema function and
// skips that function when a nested one failed, then the op's inline checks (addresses,
// limits). Auth (server.rs:253) is left to the upstream server, which checks it the same way.
import { list, obj, str, type Envelope, type Obj, type Refusal } from "./envelope.ts";
import type { Profile } from "./profiles.ts";
import type { Rule } from "./rules.ts";

function first(rules: readonly Rule[], data: Obj): Refusal | undefined {
  for (const rule of rules) {
    const reason = rule.check(data);
    if (reason !== undefined) return { rule: rule.code, status: 400, reason };
  }
  return undefined;
}

/** A promise's create data: its rules, then (only if they pass) its target's address. */
function create(profile: Profile, data: Obj, own: readonly Rule[] = [], whole: Obj = data) {
  return first(profile.create, data) ?? first(own, whole) ?? first(profile.createAddress, data);
}

/**
 * task.suspend's actions are a nested list: every failing action's message, in order, joined
 * by "; " with repeats next to each other dropped (`format_validation_errors`, types.rs:782-813),
 * and the suspend's own rules only when none failed.
 */
function suspend(profile: Profile, data: Obj): Refusal | undefined {
  const actions = list(data, "actions").map((a) => obj(a as Obj, "data") ?? {});
  const nested = actions.map((a) => first(profile.callback, a)).filter((r) => r !== undefined);
  if (nested.length > 0) {
    const reasons = nested.map((r) => r.reason).filter((r, i, all) => r !== all[i - 1]);
    return { rule: nested[0]?.rule ?? "", status: 400, reason: reasons.join("; ") };
  }
  const taskId = str(data, "id") ?? "";
  for (const a of actions) {
    const refusal = first(profile.suspendAction, { taskId, ...a });
    if (refusal) return refusal;
  }
  return undefined;
}

/** The refusal `profile`'s server would answer `envelope` with, or undefined to pass it on. */
export function checkRequest(profile: Profile, envelope: Envelope): Refusal | undefined {
  const refused = first(profile.head, envelope.head);
  if (refused) return refused;
  const { kind, data } = envelope;
  const own = profile.byKind[kind] ?? [];
  switch (kind) {
    case "promise.create":
      return create(profile, data);
    case "task.create":
      return create(profile, obj(obj(data, "action"), "data") ?? {}, own, data);
    case "task.fence": {
      const action = obj(data, "action");
      const fenced = first(own, data);
      if (fenced || str(action, "kind") !== "promise.create") return fenced;
      return create(profile, obj(action, "data") ?? {});
    }
    case "promise.register_callback":
      return first(profile.callback, data);
    case "task.suspend":
      return suspend(profile, data);
    default:
      return first(own, data);
  }
}
