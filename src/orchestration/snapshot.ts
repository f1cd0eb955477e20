// What the dashboard shows, read in one go through any Resonate server: live workers per
// group and every job not yet finished, routed or not, running or waiting.
import { specOfKind } from "./jobs/job-param.ts";
import { TAG } from "./jobs/names.ts";
import { liveWorkersAmong, searchAcquiredTasks, type WorkerView } from "./presence.ts";
import { isOk, request, type Send } from "./wire/wire.ts";

export type OutstandingState = "routing" | "queued" | "running";

export interface OutstandingJob {
  id: string;
  group: string;
  state: OutstandingState;
  script: string;
  submittedAt: number;
  /** The worker running it, when running. */
  worker?: string;
}

export interface ClusterSnapshot {
  workers: WorkerView[];
  jobs: OutstandingJob[];
  takenAt: number;
}

/** At most this many outstanding jobs are read per kind; the dashboard says when it is cut. */
const SNAPSHOT_JOB_LIMIT = 1000;

interface PendingPromise {
  id: string;
  param: { data?: unknown; headers?: Record<string, string> };
  tags: Record<string, string>;
}

async function pendingWithKind(send: Send, kind: "job" | "execute"): Promise<PendingPromise[]> {
  const res = await send(
    request("promise.search", {
      state: "pending",
      tags: { [TAG.kind]: kind },
      limit: SNAPSHOT_JOB_LIMIT,
    }),
  );
  return isOk(res) ? res.data.promises : [];
}

/** The job a promise of `kind` is for; undefined for one not written by modulate. */

export async function takeSnapshot(send: Send, now: number): Promise<ClusterSnapshot> {
  const acquired = await searchAcquiredTasks(send);
  const [workers, executes, roots] = await Promise.all([
    liveWorkersAmong(send, acquired),
    pendingWithKind(send, "execute"),
    pendingWithKind(send, "job"),
  ]);
  const holder = new Map(acquired.map((t) => [t.id, t.pid]));
  const jobs: OutstandingJob[] = [];
  const routed = new Set<string>();
  for (const execute of executes) {
    const spec = specOfKind(execute, "execute");
    const jobId = execute.tags[TAG.executeOf] ?? spec?.id ?? execute.id;
    routed.add(jobId);
    const pid = holder.get(execute.id);
    jobs.push({
      id: jobId,
      group: execute.tags[TAG.group] ?? spec?.group ?? "?",
      state: pid ? "running" : "queued",
      script: spec?.script.name ?? "?",
      submittedAt: spec?.submittedAt ?? 0,
      ...(pid ? { worker: pid } : {}),
    });
  }
  for (const root of roots) {
    if (routed.has(root.id)) continue;
    const spec = specOfKind(root, "job");
    jobs.push({
      id: root.id,
      group: root.tags[TAG.group] ?? spec?.group ?? "?",
      state: "routing",
      script: spec?.script.name ?? "?",
      submittedAt: spec?.submittedAt ?? 0,
    });
  }
  jobs.sort((a, b) => a.submittedAt - b.submittedAt);
  return { workers, jobs, takenAt: now };
}
