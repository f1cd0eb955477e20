// What the state machine needs of storage, one interface per resource: synchronous reads and
// writes inside one transaction that the caller opens and commits. Every "due" and "search"
// query is backed by an index, so its cost follows the size of the answer, not of the store.
import type {
  PromiseRecord,
  PromiseState,
  ScheduleRecord,
  TaskRecord,
  TaskState,
} from "./protocol.ts";

/** A promise as stored: the wire record, with "not settled" as null rather than absent. */
export type StoredPromise = Omit<PromiseRecord, "settledAt"> & { settledAt: number | null };

/** A task as stored: the wire record, with the promise ids that resumed it. */
export type StoredTask = Omit<TaskRecord, "resumes"> & { resumes: string[] };

/** A schedule as stored; its next run lives in the schedule timeouts table. */
export type StoredSchedule = Omit<ScheduleRecord, "nextRunAt">;

/** 0: a pending task's retry (its execute message is sent again); 1: an acquired task's lease. */
export type TaskTimeoutType = 0 | 1;

export interface Due {
  id: string;
  timeout: number;
}

export interface PageQuery {
  limit: number;
  cursor?: string;
}

export interface PromiseStore {
  get(id: string): StoredPromise | undefined;
  put(p: StoredPromise): void;
  /** Other promises of the same call-graph branch, sent along so a replay needs no round trips. */
  branch(branch: string, exceptId: string): StoredPromise[];
  search(q: PageQuery & { state?: PromiseState; tags?: Record<string, string> }): StoredPromise[];
  /**
   * The same page as `search`, each promise as its wire record's JSON text: what is stored as
   * JSON text is written into it as it is, never parsed and encoded again.
   */
  searchEncoded(
    q: PageQuery & { state?: PromiseState; tags?: Record<string, string> },
  ): EncodedPromise[];
}

/** A promise's wire record as JSON text, beside its id. */
export interface EncodedPromise {
  id: string;
  json: string;
}

export interface TaskStore {
  get(id: string): StoredTask | undefined;
  /** `address` is the task's routing target; given when the task is first written. */
  put(t: StoredTask, address?: string): void;
  search(q: PageQuery & { state?: TaskState }): StoredTask[];
}

/** Tasks suspended on a promise (the awaiters), resumed when it settles. */
export interface CallbackStore {
  add(awaited: string, awaiter: string): void;
  awaitersOf(awaited: string): string[];
  deleteOf(awaited: string): void;
  deleteByAwaiter(awaiter: string): void;
}

/** Addresses waiting on a promise from outside its call graph, told when it settles. */
export interface ListenerStore {
  add(awaited: string, address: string): void;
  addressesOf(awaited: string): string[];
  deleteOf(awaited: string): void;
}

export interface ScheduleStore {
  get(id: string): StoredSchedule | undefined;
  put(s: StoredSchedule): void;
  delete(id: string): void;
  search(q: PageQuery & { tags?: Record<string, string> }): StoredSchedule[];
}

/** The deadlines: a promise's timeout, a task's lease or retry, a schedule's next run. */
export interface TimeoutStore {
  setPromise(id: string, timeout: number): void;
  deletePromise(id: string): void;
  duePromises(now: number, limit: number): Due[];

  setTask(id: string, type: TaskTimeoutType, timeout: number): void;
  deleteTask(id: string): void;
  taskType(id: string): TaskTimeoutType | undefined;
  dueTasks(now: number, limit: number): (Due & { type: TaskTimeoutType })[];

  setSchedule(id: string, timeout: number): void;
  deleteSchedule(id: string): void;
  /** The schedule's next run. */
  ofSchedule(id: string): number | undefined;
  dueSchedules(now: number, limit: number): Due[];
}

export interface StateStore {
  readonly promises: PromiseStore;
  readonly tasks: TaskStore;
  readonly callbacks: CallbackStore;
  readonly listeners: ListenerStore;
  readonly schedules: ScheduleStore;
  readonly timeouts: TimeoutStore;
}
