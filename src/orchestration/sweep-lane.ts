// What the head of a capped sweep's lane reads before it routes the next job of its lane
// (router.ts): that job's spec, from its root promise, unless someone routed or canceled it.
import type { JobSpec } from "./jobs/job.ts";
import { specOfKind } from "./jobs/job-param.ts";
import { executeId } from "./jobs/names.ts";
import { isOk, request, type Send } from "./wire/wire.ts";

export async function readHeldSpec(send: Send, id: string): Promise<JobSpec | undefined> {
  const [root, execute] = await Promise.all([
    send(request("promise.get", { id })),
    send(request("promise.get", { id: executeId(id) })),
  ]);
  // Its execute promise exists: routed already, or canceled while it was held (cancel.ts makes
  // it settled).
  if (isOk(execute)) return undefined;
  // Not written yet: the client writes a sweep's jobs all at once, so it comes; thrown, the
  // SDK runs this again.
  if (!isOk(root)) throw new Error(`${id} is not on the server yet`);
  // Pending (its own router has not answered yet) or resolved with its receipt: held. Settled
  // otherwise, it was canceled before any router took it.
  const state = root.data.promise.state;
  if (state !== "pending" && state !== "resolved") return undefined;
  return specOfKind(root.data.promise, "job");
}
