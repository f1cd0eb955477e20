// How modulate names what a job creates, so that every generation of the Resonate server takes
// it (wire/origins.ts). Every such promise extends the job's id with a '.' (`job-x.execute`),
// so a token scoped to a prefix that covers the job covers what it creates, and no job id
// holds a '.' or a ':'. What differs by generation is the lineage the promise declares:
// - c8d7c7b ("dot") checks that an origin tag holds no '.' and that an id extends the origin,
//   branch and parent tags it declares (`{tag}.` or the tag itself: src/types.rs 289-316), so
//   the promise declares the job as its parent, the job's own origin (its id up to the first
//   '.': a sweep's job `S.3` has the sweep `S` as its origin) as its origin, and itself as its
//   branch;
// - the ':' generation reads an origin up to the first ':', and SDK 0.11.5, which speaks it,
//   refuses a ':' in any id it is given (ids.js `validateRootId`), so a promise modulate names
//   cannot extend the job there: it is a root of its own lineage, as the SDK makes every call
//   given an id (origin, branch and parent are the id itself);
// - a server without lineage rules takes either; it gets the ':' generation's.
// Pure: the generation is learnt from the server (server-generation.ts).
import { originOf, type Generation } from "../wire/origins.ts";

export type { Generation } from "../wire/origins.ts";

/** Joins a job's id to the name of what the job created. */
export const CHILD_SEPARATOR = ".";

/** The id of `part` of job `jobId` (`execute`, `queue`, `attempt-2`, ...). */
export function childId(jobId: string, part: string): string {
  return `${jobId}${CHILD_SEPARATOR}${part}`;
}

/**
 * The lineage tags of promise `id`, made for job `jobId` by `childId`, for a server of
 * `generation`: valid there, and what the SDK would declare for such a call.
 */
export function childLineageTags(
  generation: Generation,
  jobId: string,
  id: string,
): Record<string, string> {
  if (generation !== "dot")
    return { "resonate:origin": id, "resonate:parent": id, "resonate:branch": id };
  return {
    "resonate:origin": originOf("dot", jobId),
    "resonate:parent": jobId,
    "resonate:branch": id,
  };
}

/**
 * The lineage tags of job `jobId`'s own promise, a top-level call: its own origin, branch and
 * parent, except that on the "dot" generation a sweep's job (`S.3`) holds a '.', so it declares
 * the sweep as its origin (c8d7c7b refuses a '.' in an origin tag).
 */
export function rootLineageTags(generation: Generation, jobId: string): Record<string, string> {
  const origin = generation === "dot" ? originOf("dot", jobId) : jobId;
  return { "resonate:origin": origin, "resonate:branch": jobId, "resonate:parent": jobId };
}
