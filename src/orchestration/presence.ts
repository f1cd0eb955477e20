// Which workers are alive, on any Resonate server: each worker holds a task lease on a
// presence promise of its own and heartbeats it. A worker that dies stops heartbeating, the
// server's lease timer lapses, and the task is no longer `acquired`. `task.search` for
// acquired tasks then lists exactly the live workers, and the job tasks each one holds.
import { hostname } from "node:os";
import { anycastAddress } from "./wire/poll-address.ts";
import { decodeValue, encodeValue, isOk, request, type Send } from "./wire/wire.ts";
import {
  ENTRY_GROUP,
  jobOfExecuteId,
  isPresenceId,
  PRESENCE_GROUP,
  presenceId,
  presenceIdPrefix,
  TAG,
} from "./jobs/names.ts";
import { describeGpuAsk, gpuAskOf, gpusNeeded, interpreterRefusal } from "./jobs/resources.ts";

/** What a worker says of itself beyond its place in the cluster, for `modulate workers`. */
export interface WorkerAnnouncement {
  /** The GPU ids it hands out; [] when none. */
  gpus: string[];
  /** How it isolates jobs: the sandbox mode it settled on (bwrap, none). */
  sandbox: string;
  /** The modulate version it runs. */
  version: string;
  /** Names of the interpreters it declares (`--interpreter NAME=PATH`); absent in older records. */
  interpreters?: string[];
  /** Whether its .py jobs run in a python started before them; absent in older records. */
  warmPython?: boolean;
}

/**
 * The presence promise's param, written once per lease. The announcement's fields are absent
 * in records of workers older than them: readers show them as unknown.
 */
export interface PresenceInfo extends Partial<WorkerAnnouncement> {
  group: string;
  pid: string;
  host: string;
  slots: number;
  startedAt: number;
  /**
   * A router's: the machine types it routes to other groups (`--routes`), so that a client
   * can tell which group a job for `a100` will wait in. Absent for workers and older routers.
   */
  routes?: Record<string, string>;
}

export interface WorkerView extends PresenceInfo {
  /** Job tasks this worker holds now. */
  busy: number;
  /** The jobs whose execute tasks it holds now: the jobs it runs. */
  jobs: string[];
  /**
   * Its presence lease, which it renews a third of the way through: it was heard from within
   * this long, or it would not be listed. The protocol says no more of when it last beat.
   */
  leaseMs?: number;
}

export interface PresenceOptions {
  send: Send;
  group: string;
  pid: string;
  slots: number;
  /** The lease: a worker silent this long counts as gone. */
  leaseMs: number;
  /** Written beside the group, pid and slots; absent fields read as unknown. */
  announcement?: WorkerAnnouncement;
  /** A router's routes, written beside its group and pid. */
  routes?: Record<string, string>;
  clock?: () => number;
}

/** A presence promise lives a day; the worker moves to a fresh one before that. */
const EPOCH_MS = 24 * 60 * 60 * 1000;

export class PresenceLease {
  readonly #options: Required<Omit<PresenceOptions, "announcement" | "routes">> &
    Pick<PresenceOptions, "announcement" | "routes">;
  /** The lease held now; undefined between losing one and getting the next. */
  #task: { id: string; version: number } | undefined;
  #epochStartedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #beats = 0;
  #beating = false;

  constructor(options: PresenceOptions) {
    this.#options = { clock: Date.now, ...options };
  }

  async start(): Promise<void> {
    await this.#acquire();
    // The beat keeps running whatever happens to one lease: it renews or re-acquires.
    this.#timer = setInterval(
      () => void this.#beat(),
      Math.max(100, Math.floor(this.#options.leaseMs / 3)),
    );
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const task = this.#task;
    this.#task = undefined;
    if (task) await this.#release(task);
  }

  async #release(task: { id: string; version: number }): Promise<void> {
    await this.#options
      .send(
        request("task.fulfill", {
          id: task.id,
          version: task.version,
          action: request("promise.settle", { id: task.id, state: "resolved", value: {} }),
        }),
      )
      .catch(() => undefined);
  }

  async #acquire(): Promise<void> {
    const { send, group, pid, slots, leaseMs, clock, announcement, routes } = this.#options;
    const now = clock();
    const info: PresenceInfo = {
      group,
      pid,
      host: hostname(),
      slots,
      startedAt: now,
      ...announcement,
      ...(routes ? { routes } : {}),
    };
    const id = presenceId(group, pid, Math.floor(now / 1000));
    const res = await send(
      request("task.create", {
        pid,
        ttl: leaseMs,
        action: request("promise.create", {
          id,
          timeoutAt: now + EPOCH_MS + leaseMs,
          param: encodeValue(info),
          tags: { "resonate:target": anycastAddress(PRESENCE_GROUP), [TAG.presence]: group },
        }),
      }),
    );
    if (!isOk(res) || !res.data.task)
      throw new Error(`could not register presence: ${JSON.stringify(res.data)}`);
    this.#task = { id: res.data.task.id, version: res.data.task.version };
    this.#epochStartedAt = now;
  }

  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    const { send, pid, clock } = this.#options;
    try {
      const task = this.#task;
      if (!task) {
        await this.#acquire();
        return;
      }
      this.#beats++;
      const aging = clock() - this.#epochStartedAt > EPOCH_MS / 2;
      // Every few beats, check the lease is still ours: a server outage can outlast it.
      if (this.#beats % 3 === 0 || aging) {
        const got = await send(request("task.get", { id: task.id }));
        const held =
          isOk(got) && got.data.task.state === "acquired" && got.data.task.version === task.version;
        if (!held || aging) {
          this.#task = undefined;
          if (held) await this.#release(task);
          await this.#acquire();
          return;
        }
      }
      await send(request("task.heartbeat", { pid, tasks: [task] }));
    } catch {
      // The server is unreachable: the next beat tries again.
    } finally {
      this.#beating = false;
    }
  }
}

export interface AcquiredTask {
  id: string;
  pid?: string;
  /** The lease its holder renews, in milliseconds. */
  ttl?: number;
}

/** Every task held by some process now, paging through the search. */
export async function searchAcquiredTasks(send: Send): Promise<AcquiredTask[]> {
  const acquired: AcquiredTask[] = [];
  let cursor: string | undefined;
  do {
    const res = await send(
      request("task.search", { state: "acquired", limit: 1000, ...(cursor ? { cursor } : {}) }),
    );
    if (!isOk(res)) break;
    acquired.push(...res.data.tasks);
    cursor = res.data.cursor;
  } while (cursor);
  return acquired;
}

/** Live workers among the acquired tasks, with the job tasks each holds. */
export async function liveWorkersAmong(
  send: Send,
  acquired: readonly AcquiredTask[],
): Promise<WorkerView[]> {
  const busy = new Map<string, number>();
  const jobs = new Map<string, string[]>();
  for (const task of acquired) {
    if (isPresenceId(task.id) || !task.pid) continue;
    busy.set(task.pid, (busy.get(task.pid) ?? 0) + 1);
    const job = jobOfExecuteId(task.id);
    if (job !== undefined) jobs.set(task.pid, [...(jobs.get(task.pid) ?? []), job]);
  }
  const workers: WorkerView[] = [];
  for (const task of acquired.filter((t) => isPresenceId(t.id))) {
    const res = await send(request("promise.get", { id: task.id }));
    if (!isOk(res)) continue;
    const info = decodeValue(res.data.promise.param) as PresenceInfo | undefined;
    if (info) {
      workers.push({
        ...info,
        busy: busy.get(info.pid) ?? 0,
        jobs: jobs.get(info.pid) ?? [],
        ...(task.ttl === undefined ? {} : { leaseMs: task.ttl }),
      });
    }
  }
  return workers;
}

/**
 * True when some worker of the group a job for `group` waits in holds its presence lease now.
 * The group is part of the presence promise's id (`presenceId`; a group name holds no '.'), so
 * the acquired tasks' ids answer it: one request unless more than a page of tasks is held.
 * Where none of `group` is alive, `group` may be a machine type a router routes elsewhere
 * (`a100` to `gpu-a100`): the live routers' records say, and that group is looked for.
 */
export async function groupHasLiveWorker(send: Send, group: string): Promise<boolean> {
  const acquired = await searchAcquiredTasks(send);
  const alive = (name: string): boolean =>
    acquired.some((t) => t.id.startsWith(presenceIdPrefix(name)));
  if (alive(group)) return true;
  const routers = acquired.filter((t) => t.id.startsWith(presenceIdPrefix(ENTRY_GROUP)));
  for (const router of routers) {
    const res = await send(request("promise.get", { id: router.id }));
    if (!isOk(res)) continue;
    const info = decodeValue(res.data.promise.param) as PresenceInfo | undefined;
    const routed = info?.routes?.[group];
    if (routed !== undefined && routed !== group) return alive(routed);
  }
  return false;
}

export async function listLiveWorkers(send: Send): Promise<WorkerView[]> {
  return liveWorkersAmong(send, await searchAcquiredTasks(send));
}

/** What a job asks of a worker beyond a slot (its spec's fields). */
export interface JobAsks {
  gpus?: number | "shared" | undefined;
  interpreter?: string | undefined;
}

/**
 * Why a job routed to `group` is still waiting, in words; undefined when a slot is free and
 * nothing the job asks for keeps it out. A job asking for GPUs or an interpreter no live
 * worker of the group has at all says so: it waits for such a worker to join.
 */
export function whyWaiting(
  workers: readonly WorkerView[],
  group: string,
  asks: JobAsks = {},
): string | undefined {
  const members = workers.filter((w) => w.group === group);
  if (members.length === 0) return `no live worker in group ${group}`;
  const wanted = asks.interpreter;
  if (wanted !== undefined && !members.some((w) => w.interpreters?.includes(wanted))) {
    const offered = [...new Set(members.flatMap((w) => w.interpreters ?? []))];
    return `${interpreterRefusal(wanted, group, offered)}: it waits for a worker that declares it`;
  }
  const gpusOf = (w: WorkerView): number => w.gpus?.length ?? 0;
  const most = Math.max(...members.map(gpusOf));
  const ask = gpuAskOf(asks.gpus, most);
  const needed = gpusNeeded(ask);
  if (needed > most) {
    return `no live worker of group ${group} has ${describeGpuAsk(ask)} (the most one has: ${most}): it waits for one that does`;
  }
  const slots = members.reduce((sum, w) => sum + w.slots, 0);
  const busy = members.reduce((sum, w) => sum + Math.min(w.busy, w.slots), 0);
  if (busy >= slots) return `all ${slots} slot${slots === 1 ? "" : "s"} of group ${group} busy`;
  // Where every worker with enough GPUs runs something, those jobs may hold them, or the GPUs
  // may be kept for an older job that waits for more (the gate is first come, first served:
  // gpu-pass.ts), even while slots are free. Without --gpus, a job on a GPU worker wants one.
  const capable = members.filter((w) => gpusOf(w) >= needed);
  if (needed > 0 && capable.every((w) => w.busy > 0)) {
    const free = ask.kind === "shared" ? "a free GPU share" : `${describeGpuAsk(ask)} free`;
    return `waiting for ${free} on one worker of group ${group}: the GPUs it asks for are held by other jobs or kept for an older job that waits for GPUs`;
  }
  return undefined;
}
