// The newest jobs' root promises, found through their time-bucket tags (time-buckets.ts)
// without reading every job: a day, hour and minute is probed with a one-promise search, and
// only the non-empty ones are opened, newest first, down to seconds, whose jobs are read whole.
// The walk stops as soon as the caller has enough; it reports whether it ran out instead.
// Asked for pending promises only (plain `ls`), it searches the pending ones of each bucket:
// roots not yet routed and the execute promises of queued and running jobs, which the router
// tags with their root's buckets.
import { BUCKET_LEVELS, bucketName, type BucketLevel } from "../jobs/time-buckets.ts";
import { TAG } from "../jobs/names.ts";
import { isOk, request, type Send } from "../wire/wire.ts";
import type { PromiseRecord } from "./view.ts";

/** Probes of one level sent at once: most walks find a recent bucket in the first batch. */
const PROBE_BATCH = 16;
/**
 * The same for a walk of pending promises (below), by tag alone: outstanding jobs are the
 * newest, so the first few buckets most often hold them, and probes past those are wasted.
 */
const PENDING_BATCH = 4;
const SEARCH_PAGE = 1000;

/** Which promises of a bucket a walk reads. */
export interface WalkOf {
  /** Pending ones only, roots and executes; else the roots, whatever their state. */
  pending?: boolean;
}

/** The search's state and tags for the promises `of` asks for in bucket `tag: name`. */
function query(
  of: WalkOf,
  tag: string,
  name: string,
): { state?: "pending"; tags: Record<string, string> } {
  const tags: Record<string, string> = { [tag]: name };
  return of.pending ? { state: "pending", tags } : { tags };
}

/** Every promise of `of` tagged `tag: name`, page by page. */
async function searchBucket(
  send: Send,
  of: WalkOf,
  tag: string,
  name: string,
): Promise<PromiseRecord[]> {
  const found: PromiseRecord[] = [];
  let cursor: string | undefined;
  do {
    const res = await send(
      request("promise.search", {
        // A second's bucket is read whole, by its tag alone: asked for pending promises, a
        // server may walk every pending promise instead of the bucket's few (the embedded one
        // does, for a bucket of more than 500 jobs), so the settled ones are left out here.
        // Roots only unless pending ones are asked for: the bucket holds executes too.
        tags: of.pending ? { [tag]: name } : { [tag]: name, [TAG.kind]: "job" },
        limit: SEARCH_PAGE,
        ...(cursor ? { cursor } : {}),
      }),
    );
    if (!isOk(res))
      throw new Error(`search of ${tag}=${name} answered ${JSON.stringify(res.data)}`);
    const promises = res.data.promises as PromiseRecord[];
    found.push(...(of.pending ? promises.filter((p) => p.state === "pending") : promises));
    cursor = res.data.cursor;
  } while (cursor);
  return found;
}

async function bucketHasAny(
  send: Send,
  of: WalkOf,
  level: BucketLevel,
  startMs: number,
): Promise<boolean> {
  const res = await send(
    request("promise.search", { ...query(of, level.tag, bucketName(level, startMs)), limit: 1 }),
  );
  if (!isOk(res)) throw new Error(`search of ${level.tag} answered ${JSON.stringify(res.data)}`);
  return (res.data.promises as unknown[]).length > 0;
}

/**
 * Hands `take` the root promises of the jobs submitted in [fromMs, toMs] (with `of.pending`,
 * their pending roots and execute promises), a second's bucket at a time, newest first, until
 * `take` answers true (enough). Answers whether it was stopped so; false means every tagged
 * job of the range was handed over.
 */
export async function walkRecentRoots(
  send: Send,
  fromMs: number,
  toMs: number,
  take: (roots: PromiseRecord[]) => Promise<boolean>,
  of: WalkOf = {},
): Promise<boolean> {
  const kinds = of.pending ? ["job", "execute"] : ["job"];
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
    const perBatch = of.pending && !finest ? PENDING_BATCH : PROBE_BATCH;
    for (let at = 0; at < starts.length; at += perBatch) {
      const batch = starts.slice(at, at + perBatch);
      if (!finest && of.pending) {
        // Probed by its tag alone first: a server answers that from the bucket's own promises,
        // where a probe for pending ones may walk every pending promise until one carries the
        // tag (the embedded server does, for a bucket not rare), which for an empty bucket is
        // all of them. Only a bucket that holds any is probed for pending ones, newest first
        // and one at a time: the first that holds some is most often enough.
        const nonEmpty = await Promise.all(
          batch.map((start) => bucketHasAny(send, {}, level, start)),
        );
        for (const [i, start] of batch.entries()) {
          if (!nonEmpty[i] || !(await bucketHasAny(send, of, level, start))) continue;
          const inner = [Math.max(from, start), Math.min(to, start + level.widthMs - 1)] as const;
          if (await walk(depth + 1, ...inner)) return true;
        }
        continue;
      }
      if (finest && of.pending) {
        // A second of a minute that holds pending jobs is probed by its tag alone (a probe
        // for pending ones may walk every pending promise), and read only if it holds any,
        // one at a time: one second of a busy queue often holds enough.
        const nonEmpty = await Promise.all(
          batch.map((start) => bucketHasAny(send, {}, level, start)),
        );
        for (const [i, start] of batch.entries()) {
          if (!nonEmpty[i]) continue;
          const read = await searchBucket(send, of, level.tag, bucketName(level, start));
          const jobs = read.filter((promise) => kinds.includes(promise.tags[TAG.kind] ?? ""));
          if (jobs.length > 0 && (await take(jobs))) return true;
        }
        continue;
      }
      if (finest) {
        // A second's bucket is read whole: a probe would cost as much as the read.
        const read = await Promise.all(
          batch.map((start) => searchBucket(send, of, level.tag, bucketName(level, start))),
        );
        for (const roots of read) {
          const jobs = roots.filter((root) => kinds.includes(root.tags[TAG.kind] ?? ""));
          if (jobs.length > 0 && (await take(jobs))) return true;
        }
        continue;
      }
      const nonEmpty = await Promise.all(
        batch.map((start) => bucketHasAny(send, of, level, start)),
      );
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
