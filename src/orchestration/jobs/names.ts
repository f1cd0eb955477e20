// The names modulate's processes agree on through the Resonate server: registered
// functions, groups, tags and the shapes of ids. Change one here and every mode follows.
import { randomBytes } from "../../common/random.ts";
import { childId, childLineageTags, type Generation } from "./lineage.ts";

/** The group of routers: submissions are addressed here first. */
export const ENTRY_GROUP = "entry";
/** The router's durable orchestration, one per submission. */
export const SUBMIT_FUNCTION = "modulate.submit";
/** The worker's body: runs one job's script in the sandbox. */
export const EXECUTE_FUNCTION = "modulate.execute";
/** Where worker presence leases point: no process listens there, by design. */
export const PRESENCE_GROUP = "modulate-presence";
/**
 * Where queue deadlines point: no process listens there, by design. The address is what
 * makes a server keep the deadline; nobody is to run it (queue-deadline.ts).
 */
export const DEADLINE_GROUP = "modulate-deadlines";
/** Named in a queue deadline's record as its function; nothing runs it. */
export const QUEUE_DEADLINE_FUNCTION = "modulate.queue-deadline";
/**
 * The routers' function that ends a job whose queue timeout passed with no worker taking it;
 * the server delivers its call only at that moment (queue-deadline.ts).
 */
export const QUEUE_TIMEOUT_FUNCTION = "modulate.queue-timeout";

/** Tags modulate sets on its promises, so searches can find them on any Resonate server. */
export const TAG = {
  /** On a submission's root promise: "job", so a search finds every job and nothing else. */
  kind: "modulate:kind",
  /** On a submission's root promise: the group (or machine type) it asked for. */
  group: "modulate:group",
  /** On an attempt record: the job id it belongs to. */
  attemptOf: "modulate:attempt-of",
  /** On a job's execute promise: the job id, whatever id scheme the SDK gave it. */
  executeOf: "modulate:execute-of",
  /** On a job's queue deadline: the job id. */
  queueOf: "modulate:queue-of",
  /**
   * On a job's queue-timeout call: the group it is queued on, so that `ls` counts the jobs
   * queued ahead of one without reading each queued job's spec (list-queue.ts).
   */
  queueGroup: "modulate:queue-group",
  /** On a job's queue-timeout call: the job's submittedAt, in milliseconds. */
  queuedSince: "modulate:submitted-at",
  /** On a worker presence promise: its group. */
  presence: "modulate:presence",
  /** On a chunk of an attempt's live output: the job id. */
  outputOf: "modulate:output-of",
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
// Ids become promise ids, the roots of what each job creates: '.' and ':' separate those
// (lineage.ts), and '/' would be ambiguous in logs.
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function groupNameProblem(group: string): string | undefined {
  if (NAME.test(group)) return undefined;
  return `"${group}" is not a valid group name: use letters, digits, '-' and '_' (at most 63, starting with a letter or digit)`;
}

export function jobIdProblem(id: string): string | undefined {
  if (JOB_ID.test(id)) return undefined;
  const separator = [".", ":"].find((c) => id.includes(c));
  const why = separator
    ? `: '${separator}' separates the ids of what a job creates from the job's own`
    : "";
  return `"${id}" is not a valid job id${why}: use letters, digits, '-' and '_' (at most 128, starting with a letter or digit)`;
}

/** A fresh job id: sortable by submission time, unique without coordination. */
export function newJobId(now: number): string {
  return `job-${now.toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** A fresh sweep id, as `newJobId` makes a job's. */
export function newSweepId(now: number): string {
  return `sweep-${now.toString(36)}-${randomBytes(4).toString("hex")}`;
}

/**
 * The generation of the server this process talks to, learnt at start-up
 * (server-generation.ts); every process of a cluster learns the same from the same server.
 * It decides the lineage tags of what a job creates (lineage.ts); until it is known, those
 * of a server without lineage rules.
 */
let generation: Generation = "none";

export function useGeneration(learnt: Generation): void {
  generation = learnt;
}

/** The lineage tags for promise `id` that job `jobId` creates, on this process's server. */
export function jobChildTags(jobId: string, id: string): Record<string, string> {
  return childLineageTags(generation, jobId, id);
}

/**
 * The promise of a job's `execute` call, named by the router rather than left to the SDK's
 * scheme, so that a client can wait on it directly.
 */
export function executeId(jobId: string): string {
  return childId(jobId, "execute");
}

/** The job an execute promise's id is for (`executeId`, or an older router's name), if it is one. */
export function jobOfExecuteId(id: string): string | undefined {
  const suffix = executeId("");
  if (id.endsWith(suffix) && id.length > suffix.length) return id.slice(0, -suffix.length);
  return isOlderExecuteId(id) ? id.slice(OLDER_EXECUTE_PREFIX.length) : undefined;
}

/** How routers named a job's execute promise before ids followed the job's lineage. */
const OLDER_EXECUTE_PREFIX = "modulate-execute.";

/**
 * True for an execute promise named as before ids followed the job's lineage: that job's
 * attempts are named so too (`modulate-attempt.<job>.<n>`), and are found by tag.
 */
export function isOlderExecuteId(id: string): boolean {
  return id.startsWith(OLDER_EXECUTE_PREFIX);
}

/**
 * The promise a job's wait for a worker ends on: a worker that takes the job settles it, or
 * its queue timeout does (queue-deadline.ts).
 */
export function queueDeadlineId(jobId: string): string {
  return childId(jobId, "queue");
}

/**
 * The call that ends a job at its queue timeout if no worker has taken it: delivered to a
 * router only then, and settled by the worker that takes the job, so it never runs for a job
 * that started in time.
 */
export function queueTimeoutId(jobId: string): string {
  return childId(jobId, "queue-timeout");
}

/**
 * The router's durable wait for the jobs a job waits for (`submit --after`): settled with
 * how each ended (dependencies.ts).
 */
export function afterId(jobId: string): string {
  return childId(jobId, "after");
}

/** The durable record of attempt `n` of a job. */
export function attemptId(jobId: string, n: number): string {
  return childId(jobId, `attempt-${n}`);
}

const PRESENCE_ID_PREFIX = "modulate-presence.";

export function presenceId(group: string, pid: string, epoch: number): string {
  return `${presenceIdPrefix(group)}${pid}.${epoch}`;
}

/** What every presence id of `group` starts with; a group name holds no '.'. */
export function presenceIdPrefix(group: string): string {
  return `${PRESENCE_ID_PREFIX}${group}.`;
}

/** True for the id of a worker's presence lease (`presenceId`), false for a job's task. */
export function isPresenceId(id: string): boolean {
  return id.startsWith(PRESENCE_ID_PREFIX);
}

/**
 * The pid a process names itself by to the server (its task leases, heartbeats, presence):
 * what it is, then where it runs, so that `ui` and the logs tell processes apart. `role` is
 * a worker's group, `router` or `client`; `dev` runs a router and a worker per group in one
 * process, and the role keeps their pids apart.
 */
export function processPid(role: string, host: string, osPid: number): string {
  return `${role}-${host}-${osPid}`;
}

/**
 * Chunk `seq` (from 0) of attempt `attempt`'s live output: born settled, its param holds the
 * output (output-publisher.ts); a follower reads seq after seq (follow-output.ts).
 */
export function outputChunkId(jobId: string, attempt: number, seq: number): string {
  return childId(jobId, `output-${attempt}-${seq}`);
}
