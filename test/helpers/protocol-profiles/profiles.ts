// The three generations of the Resonate server modulate may meet, as sets of rules by where in
// a request each applies. `check.ts` applies one to a request, in the server's order.
import { COLON_LINEAGE, DOT_LINEAGE, type Lineage } from "./lineage.ts";
import {
  awaitedEqualsAwaiter,
  branchPrefix,
  callbackOrigin,
  delayInTaskAction,
  delayRules,
  dotInPrefix,
  fenceActionId,
  fulfillActionId,
  heartbeatOrigin,
  nullBytes,
  originPrefix,
  parentPrefix,
  reservedInOrigin,
  scheduleIdReserved,
  scheduleTarget,
  suspendActionRules,
  taskCreateTarget,
  type Rule,
} from "./rules.ts";
import { listenerAddress, protocolVersion, searchLimit, targetAddress } from "./server-checks.ts";

export type ProfileName = "c8d7c7b" | "colon" | "v0.9.8";

export interface Profile {
  readonly name: ProfileName;
  /** One line: which server this is. */
  readonly server: string;
  /** How ids nest, for a generation that checks lineage. */
  readonly lineage: Lineage | undefined;
  /** On `head`. */
  readonly head: readonly Rule[];
  /** On a promise's create data: promise.create, task.create's action, task.fence's create. */
  readonly create: readonly Rule[];
  /** On a create that passed `create` and its request's own rules: its target's address. */
  readonly createAddress: readonly Rule[];
  /** On a callback's data: promise.register_callback (each task.suspend action: `suspendAction`). */
  readonly callback: readonly Rule[];
  /** On `{taskId, awaiter, awaited}` for each task.suspend action. */
  readonly suspendAction: readonly Rule[];
  /** By request kind, on its `data`, after the nested rules above. */
  readonly byKind: Readonly<Record<string, readonly Rule[]>>;
}

const SEARCHES = {
  "promise.search": [searchLimit],
  "task.search": [searchLimit],
  "schedule.search": [searchLimit],
};

/** resonatehq/resonate v0.9.8 (8c7c09a8): no origin rules at all; no delay either. */
const V098: Profile = {
  name: "v0.9.8",
  server: "resonatehq/resonate v0.9.8 (8c7c09a8)",
  lineage: undefined,
  head: [protocolVersion],
  create: [nullBytes],
  createAddress: [targetAddress],
  callback: [awaitedEqualsAwaiter],
  suspendAction: suspendActionRules(undefined),
  byKind: {
    "task.create": [taskCreateTarget],
    "task.fulfill": [fulfillActionId],
    "task.fence": [fenceActionId],
    "promise.register_listener": [listenerAddress],
    ...SEARCHES,
  },
};

/** resonatehq/resonate main at c8d7c7ba (#1119): '.' lineage, origin checks, delay. */
const C8D7C7B: Profile = {
  name: "c8d7c7b",
  server: "resonatehq/resonate c8d7c7ba (#1119, '.' lineage)",
  lineage: DOT_LINEAGE,
  head: [protocolVersion],
  create: [
    nullBytes,
    reservedInOrigin(DOT_LINEAGE),
    originPrefix(DOT_LINEAGE),
    branchPrefix(DOT_LINEAGE),
    parentPrefix(DOT_LINEAGE),
    dotInPrefix,
    ...delayRules,
  ],
  createAddress: [targetAddress],
  callback: [awaitedEqualsAwaiter, callbackOrigin(DOT_LINEAGE)],
  suspendAction: suspendActionRules(DOT_LINEAGE),
  byKind: {
    "task.create": [taskCreateTarget, delayInTaskAction],
    "task.fulfill": [fulfillActionId],
    "task.fence": [fenceActionId],
    "task.heartbeat": [heartbeatOrigin(DOT_LINEAGE)],
    "schedule.create": [scheduleIdReserved(DOT_LINEAGE), scheduleTarget],
    "promise.register_listener": [listenerAddress],
    ...SEARCHES,
  },
};

/**
 * The server SDK 0.11.5 speaks to: ':' ends the origin. Its source is not at hand, so this is
 * c8d7c7b with the lineage rules read from what the SDK sends and says the server checks
 * (rules marked `inferred`). Left out, for want of evidence either way: `dot_in_prefix` (the SDK
 * never sets resonate:prefix) and the heartbeat's one-origin rule, since the SDK sends every
 * task of a process in one heartbeat whatever their origins (sdk heartbeat.js:22-31).
 */
const COLON: Profile = {
  ...C8D7C7B,
  name: "colon",
  server: "the ':' lineage of SDK 0.11.5 (no server source; rules read from the SDK)",
  lineage: COLON_LINEAGE,
  create: [
    nullBytes,
    reservedInOrigin(COLON_LINEAGE),
    originPrefix(COLON_LINEAGE),
    branchPrefix(COLON_LINEAGE),
    parentPrefix(COLON_LINEAGE),
    ...delayRules,
  ],
  callback: [awaitedEqualsAwaiter, callbackOrigin(COLON_LINEAGE)],
  suspendAction: suspendActionRules(COLON_LINEAGE),
  byKind: {
    "task.create": [taskCreateTarget, delayInTaskAction],
    "task.fulfill": [fulfillActionId],
    "task.fence": [fenceActionId],
    "schedule.create": [scheduleIdReserved(COLON_LINEAGE), scheduleTarget],
    "promise.register_listener": [listenerAddress],
    ...SEARCHES,
  },
};

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  "v0.9.8": V098,
  c8d7c7b: C8D7C7B,
  colon: COLON,
};
