// Schedule requests (get, create, delete, search), and the run of a schedule when it falls
// due: it creates a promise from its template and waits for its cron's next run.
import { CronExpressionParser } from "cron-parser";
import type { Reply, ScheduleRecord } from "./protocol.ts";
import { encodeCursor } from "./protocol.ts";
import type { StoredSchedule } from "./store-api.ts";
import { type StateContext, DEFAULT_SEARCH_LIMIT, reply } from "./state-context.ts";
import { createPromise } from "./state-promises.ts";

/** The first run of `cron` strictly after `after` (ms), or undefined if it never runs. */
function nextCronRun(cron: string, after: number): number | undefined {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(after) })
      .next()
      .getTime();
  } catch {
    return undefined;
  }
}

function toScheduleRecord(ctx: StateContext, s: StoredSchedule): ScheduleRecord {
  const record: ScheduleRecord = {
    id: s.id,
    cron: s.cron,
    promiseId: s.promiseId,
    promiseTimeout: s.promiseTimeout,
    promiseParam: s.promiseParam,
    promiseTags: s.promiseTags,
    createdAt: s.createdAt,
    nextRunAt: ctx.store.timeouts.ofSchedule(s.id) ?? 0,
  };
  if (s.lastRunAt !== undefined) record.lastRunAt = s.lastRunAt;
  return record;
}

export function getSchedule(ctx: StateContext, id: string): Reply {
  const s = ctx.store.schedules.get(id);
  if (!s) return reply(404, "Schedule not found");
  return reply(200, { schedule: toScheduleRecord(ctx, s) });
}

export function createSchedule(
  ctx: StateContext,
  now: number,
  d: Omit<StoredSchedule, "createdAt" | "lastRunAt">,
): Reply {
  // Every promise a schedule fires needs somewhere to go.
  if (!("resonate:target" in d.promiseTags)) {
    return reply(400, "promiseTags must include a resonate:target tag");
  }
  const existing = ctx.store.schedules.get(d.id);
  if (existing) return reply(200, { schedule: toScheduleRecord(ctx, existing) });
  const next = nextCronRun(d.cron, now);
  if (next === undefined) return reply(400, "Invalid cron expression");
  const s: StoredSchedule = { ...d, createdAt: now };
  ctx.store.timeouts.setSchedule(s.id, next);
  ctx.store.schedules.put(s);
  return reply(200, { schedule: toScheduleRecord(ctx, s) });
}

export function deleteSchedule(ctx: StateContext, id: string): Reply {
  if (!ctx.store.schedules.get(id)) return reply(404, "Schedule not found");
  ctx.store.timeouts.deleteSchedule(id);
  ctx.store.schedules.delete(id);
  return reply(200, {});
}

export function searchSchedules(
  ctx: StateContext,
  q: { tags?: Record<string, string>; limit?: number; cursor?: string },
): Reply {
  const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
  const rows = ctx.store.schedules.search({ ...q, limit: limit + 1 });
  const page = rows.slice(0, limit);
  return reply(200, {
    schedules: page.map((s) => toScheduleRecord(ctx, s)),
    ...(rows.length > limit ? { cursor: encodeCursor(page.at(-1)?.id ?? "") } : {}),
  });
}

/** Schedule `id`'s run at `runAt` is due. */
export function fireSchedule(ctx: StateContext, now: number, id: string, runAt: number): void {
  const s = ctx.store.schedules.get(id);
  if (!s) {
    ctx.store.timeouts.deleteSchedule(id);
    return;
  }
  const promiseId = s.promiseId
    .replaceAll("{{.id}}", s.id)
    .replaceAll("{{.timestamp}}", String(runAt));
  createPromise(ctx, now, {
    id: promiseId,
    timeoutAt: runAt + s.promiseTimeout,
    param: s.promiseParam,
    tags: { ...s.promiseTags, "resonate:schedule": s.id },
  });
  const next = nextCronRun(s.cron, runAt);
  if (next === undefined) {
    ctx.store.timeouts.deleteSchedule(id);
  } else {
    ctx.store.timeouts.setSchedule(id, next);
  }
  ctx.store.schedules.put({ ...s, lastRunAt: runAt });
}
