// The newest jobs' root promises, found through their time-bucket tags (time-buckets.ts)
// without reading every job: a day, hour and minute is probed with a one-promise search, and
// only the non-empty ones are opened, newest first, down to seconds, whose jobs are read whole.
// The walk stops as soon as the caller has enough; it reports whether it ran out instead.
import { BUCKET_LEVELS, bucketName, type BucketLevel } from "../jobs/time-buckets.ts";
import { TAG } from "../jobs/names.ts";
import { isOk, request, type Send } from "../wire/wire.ts";
import type { PromiseRecord } from "./view.ts";

/** Probes of one level sent at once: most walks find a recent bucket in the first batch. */
const PROBE_BATCH = 16;
const SEARCH_PAGE = 1000;

/** Every promise tagged `tag: name`, page by page. */
async function searchBucket(send: Send, tag: string, name: string): Promise<PromiseRecord[]> {
  const found: PromiseRecord[] = [];
  let cursor: string | undefined;
  do {
    const res = await send(
      request("promise.search", {
        tags: { [tag]: name },
        limit: SEARCH_PAGE,
        ...(cursor ? { cursor } : {}),
      }),
    );
    if (!isOk(res))
      throw new Error(`search of ${tag}=${name} answered ${JSON.stringify(res.data)}`);
    found.push(...(res.data.promises as PromiseRecord[]));
    cursor = res.data.cursor;
  } while (cursor);
  return found;
}

async function bucketHasAny(send: Send, level: BucketLevel, startMs: number): Promise<boolean> {
  const res = await send(
    request("promise.search", { tags: { [level.tag]: bucketName(level, startMs) }, limit: 1 }),
  );
  if (!isOk(res)) throw new Error(`search of ${level.tag} answered ${JSON.stringify(res.data)}`);
  return (res.data.promises as unknown[]).length > 0;
}

/**
 * Hands `take` the root promises of the jobs submitted in [fromMs, toMs], a second's bucket at
 * a time, newest first, until `take` answers true (enough). Answers whether it was stopped so;
 * false means every tagged job of the range was handed over.
 */
export async function walkRecentRoots(
  send: Send,
  fromMs: number,
  toMs: number,
  take: (roots: PromiseRecord[]) => Promise<boolean>,
): Promise<boolean> {
  const walk = async (depth: number, from: number, to: number): Promise<boolean> => {
    const level = BUCKET_LEVELS[depth];
    if (!level) return false;
    const starts: number[] = [];
    for (
      let start = to - (to % level.widthMs);
      start + level.widthMs > from;
      start -= level.widthMs
    )
      starts.push(start);
    const finest = depth === BUCKET_LEVELS.length - 1;
    for (let at = 0; at < starts.length; at += PROBE_BATCH) {
      const batch = starts.slice(at, at + PROBE_BATCH);
      if (finest) {
        // A second's bucket is read whole: a probe would cost as much as the read.
        const read = await Promise.all(
          batch.map((start) => searchBucket(send, level.tag, bucketName(level, start))),
        );
        for (const roots of read) {
          const jobs = roots.filter((root) => root.tags[TAG.kind] === "job");
          if (jobs.length > 0 && (await take(jobs))) return true;
        }
        continue;
      }
      const nonEmpty = await Promise.all(batch.map((start) => bucketHasAny(send, level, start)));
      for (const [i, start] of batch.entries()) {
        if (!nonEmpty[i]) continue;
        const inner = [Math.max(from, start), Math.min(to, start + level.widthMs - 1)] as const;
        if (await walk(depth + 1, ...inner)) return true;
      }
    }
    return false;
  };
  return walk(0, fromMs, toMs);
}
