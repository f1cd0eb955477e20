// What a JWT's `prefix` claim scopes: every id a request names or implies must start with
// it. The Resonate server's `extract_resource_id` (src/auth.rs) checks one id per kind; this
// table is that one, extended to every id a request can reach the store or another tenant
// through (issue 12): the inner requests of task.create, task.fence, task.fulfill and
// task.suspend, the other side of a callback, the tags that pull promises in (a branch is
// preloaded whole) or send messages to a group, a schedule's own id and the ids it creates,
// and the group and pid of a poll. Pure: a request in, the names it reaches out.
import { parsePollAddress } from "./address.ts";
import { quote } from "./jwt.ts";

/** One name a request reaches, and where it sits in the request, for a one-line reason. */
export interface ScopedName {
  /** Where it sits: "task.fence's inner promise.settle id". */
  where: string;
  /** The name as the request wrote it. */
  name: string;
  /** The part that must start with the prefix; "" when none can be found (fails closed). */
  scoped: string;
  /** Why `scoped` is not the whole name, said after the reason. */
  because?: string;
  /** A group work is addressed to (a `resonate:target`), as opposed to one polled. */
  target?: true;
}

/** A search (or a kind this table does not know) reaches every tenant: only "" covers it. */
export type Reach = ScopedName[] | "everything";

// Tags whose value is a promise id the server or the SDK follows to other promises: a task's
// branch is preloaded whole on create and acquire, and parent and origin lead the SDK there.
const TAGS_NAMING_PROMISES = ["resonate:branch", "resonate:parent", "resonate:origin"];
const TARGET_TAG = "resonate:target";

// The kinds whose only name is data.id, as in the real server.
const ID_ONLY = new Set([
  "promise.get",
  "promise.settle",
  "task.get",
  "task.acquire",
  "task.release",
  "task.halt",
  "task.continue",
  "schedule.get",
  "schedule.delete",
]);

/**
 * Every name `data` of a `kind` request reaches. A target in one of `openGroups` reaches
 * nobody's own: those groups serve every tenant (auth.ts).
 */
export function reachOf(
  kind: string,
  data: unknown,
  openGroups: ReadonlySet<string> = new Set(),
): Reach {
  const reach = reachOfRequest(kind, data);
  if (reach === "everything" || openGroups.size === 0) return reach;
  return reach.filter((name) => !(name.target === true && openGroups.has(name.scoped)));
}

function reachOfRequest(kind: string, data: unknown): Reach {
  if (ID_ONLY.has(kind)) return [idAt(`${kind} id`, data, "id")];
  switch (kind) {
    case "promise.create":
      return promiseCreated(kind, data);
    case "promise.register_callback":
      return callback(kind, data);
    case "promise.register_listener":
      return [
        idAt(`${kind} awaited`, data, "awaited"),
        address(`${kind} address`, data, "address"),
      ];
    case "task.create":
      return innerRequest(kind, data);
    case "task.fulfill":
    case "task.fence":
      return [idAt(`${kind} id`, data, "id"), ...innerRequest(kind, data)];
    case "task.suspend":
      return [
        idAt(`${kind} id`, data, "id"),
        ...listOf(field(data, "actions")).flatMap((action) =>
          callback(`${kind}'s inner ${innerKind(action)}`, field(action, "data")),
        ),
      ];
    case "task.heartbeat":
      return listOf(field(data, "tasks")).map((task) => idAt(`${kind} task id`, task, "id"));
    case "schedule.create":
      return scheduleCreated(kind, data);
    default:
      return "everything";
  }
}

/** A poll stream delivers messages addressed to its group and pid: both are the tenant's. */
export function pollReach(group: string, pid: string): ScopedName[] {
  return [
    { where: "/poll group", name: group, scoped: group },
    { where: "/poll pid", name: pid, scoped: pid },
  ];
}

/** Why `reach` goes outside `prefix`, or undefined when it stays inside. */
export function outsidePrefix(kind: string, reach: Reach, prefix: string): string | undefined {
  if (prefix === "") return undefined;
  if (reach === "everything") {
    return `${quote(kind)} names no id, so only an empty prefix or role 'admin' may send it (this token's prefix is ${quote(prefix)})`;
  }
  const outside = reach.find((name) => !name.scoped.startsWith(prefix));
  if (outside === undefined) return undefined;
  const reason = `${outside.where} ${quote(outside.name)} is outside this token's prefix ${quote(prefix)}`;
  return outside.because === undefined ? reason : `${reason}: ${outside.because}`;
}

function promiseCreated(where: string, data: unknown): ScopedName[] {
  return [idAt(`${where} id`, data, "id"), ...tagsReach(`${where} tag`, field(data, "tags"))];
}

function callback(where: string, data: unknown): ScopedName[] {
  // The awaiter is resumed when the awaited settles: both sides are touched.
  return [idAt(`${where} awaited`, data, "awaited"), idAt(`${where} awaiter`, data, "awaiter")];
}

/** The promise.create or promise.settle inside task.create, task.fulfill and task.fence. */
function innerRequest(kind: string, data: unknown): ScopedName[] {
  const action = field(data, "action");
  // Tags are read whatever the inner kind says, so a mislabelled create cannot slip past.
  return promiseCreated(`${kind}'s inner ${innerKind(action)}`, field(action, "data"));
}

function scheduleCreated(kind: string, data: unknown): ScopedName[] {
  const id = idAt(`${kind} id`, data, "id");
  const template = stringOr(field(data, "promiseId"));
  // The server names each promise it fires by replacing {{.id}} with the schedule's id, then
  // {{.timestamp}} with the run's time. What comes before the first timestamp is fixed, so
  // when it starts with the prefix, so does every id the schedule creates; this also admits
  // the SDK's own template, "{{.id}}-{{.timestamp}}", for a schedule id in the prefix.
  const fixedHead = template.replaceAll("{{.id}}", id.name).split("{{.timestamp}}")[0] ?? "";
  const promiseId: ScopedName = {
    where: `${kind} promiseId`,
    name: template,
    scoped: id.scoped === "" ? "" : fixedHead,
    because: "every promise id it creates must start with the prefix",
  };
  return [id, promiseId, ...tagsReach(`${kind} promiseTags`, field(data, "promiseTags"))];
}

function tagsReach(where: string, tags: unknown): ScopedName[] {
  const names = TAGS_NAMING_PROMISES.filter((tag) => field(tags, tag) !== undefined).map((tag) =>
    idAt(`${where} ${tag}`, tags, tag),
  );
  if (field(tags, TARGET_TAG) !== undefined) {
    names.push({ ...address(`${where} ${TARGET_TAG}`, tags, TARGET_TAG), target: true });
  }
  return names;
}

/** A poll address reaches its group; one that does not parse reaches nothing we can scope. */
function address(where: string, holder: unknown, key: string): ScopedName {
  const name = stringOr(field(holder, key));
  const parsed = parsePollAddress(name);
  if (parsed === undefined) {
    return {
      where,
      name,
      scoped: "",
      because: "it is not a poll://any@GROUP[/PID] or poll://uni@GROUP/PID address",
    };
  }
  return { where, name, scoped: parsed.group, because: "its group must start with the prefix" };
}

// A missing or non-string id reads as "", which only an empty prefix covers: malformed
// requests fail closed (validation turns them away before this over HTTP anyway).
function idAt(where: string, holder: unknown, key: string): ScopedName {
  const name = stringOr(field(holder, key));
  return { where, name, scoped: name };
}

function innerKind(action: unknown): string {
  return stringOr(field(action, "kind")) || "request";
}

/** A list of items, or one undefined item for a missing list, so it reads as "" and fails. */
function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [undefined];
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}
