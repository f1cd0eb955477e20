// What the state machine needs of storage: synchronous reads and writes inside one
// transaction that the caller opens and commits. Every "due" and "search" query is backed
// by an index, so its cost follows the size of the answer, not of the store.
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

export interface StateStore {
  getPromise(id: string): StoredPromise | undefined;
  putPromise(p: StoredPromise): void;
  /** Other promises of the same call-graph branch, sent along so a replay needs no round trips. */
  branchPromises(branch: string, exceptId: string): StoredPromise[];
  searchPromises(
    q: PageQuery & { state?: PromiseState; tags?: Record<string, string> },
  ): StoredPromise[];

  getTask(id: string): StoredTask | undefined;
  /** `address` is the task's routing target; given when the task is first written. */
  putTask(t: StoredTask, address?: string): void;
  searchTasks(q: PageQuery & { state?: TaskState }): StoredTask[];

  addCallback(awaited: string, awaiter: string): void;
  callbacksOf(awaited: string): string[];
  deleteCallbacksOf(awaited: string): void;
  deleteCallbacksByAwaiter(awaiter: string): void;

  addListener(awaited: string, address: string): void;
  listenersOf(awaited: string): string[];
  deleteListenersOf(awaited: string): void;

  getSchedule(id: string): StoredSchedule | undefined;
  putSchedule(s: StoredSchedule): void;
  deleteSchedule(id: string): void;
  searchSchedules(q: PageQuery & { tags?: Record<string, string> }): StoredSchedule[];

  setPromiseTimeout(id: string, timeout: number): void;
  deletePromiseTimeout(id: string): void;
  duePromiseTimeouts(now: number, limit: number): Due[];

  setTaskTimeout(id: string, type: TaskTimeoutType, timeout: number): void;
  deleteTaskTimeout(id: string): void;
  taskTimeoutType(id: string): TaskTimeoutType | undefined;
  dueTaskTimeouts(now: number, limit: number): (Due & { type: TaskTimeoutType })[];

  setScheduleTimeout(id: string, timeout: number): void;
  deleteScheduleTimeout(id: string): void;
  scheduleTimeout(id: string): number | undefined;
  dueScheduleTimeouts(now: number, limit: number): Due[];
}
