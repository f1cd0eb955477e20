// What a worker's `GET /metrics` says (worker --metrics-port): jobs by outcome, how long they
// waited in their queue and ran, slots and GPUs busy, how long sandboxes took to start, OOM
// kills and re-dispatches. Fed by the worker's events and the sandbox runner's observer.
import { MetricsRegistry, type Counter, type Histogram } from "../common/metrics.ts";
import type { LaunchStart } from "../sandbox/execute.ts";
import type { JobResult, JobSpec } from "./jobs/job.ts";
import type { RunObserver } from "./sandbox-runner.ts";

/** What the metrics read on demand when scraped. */
export interface WorkerGaugeSources {
  group: string;
  slots: number;
  /** Slots holding a task now. */
  busySlots(): number;
  /** GPUs the worker has, and how many are lent to jobs now; both 0 without GPUs. */
  gpus(): { total: number; busy: number };
}

export class WorkerMetrics implements RunObserver {
  readonly registry = new MetricsRegistry();
  readonly #group: string;
  readonly #jobs: Counter;
  readonly #started: Counter;
  readonly #redispatched: Counter;
  readonly #oomKills: Counter;
  readonly #duration: Histogram;
  readonly #queueWait: Histogram;
  readonly #sandboxStart: Histogram;
  readonly #launches: Counter;
  readonly #clock: () => number;

  constructor(sources: WorkerGaugeSources, clock: () => number = Date.now) {
    this.#group = sources.group;
    this.#clock = clock;
    const r = this.registry;
    this.#jobs = r.counter(
      "modulate_worker_jobs_total",
      "Jobs this worker finished, by group and outcome (succeeded, failed, timed_out, canceled).",
    );
    this.#started = r.counter(
      "modulate_worker_job_starts_total",
      "Attempts this worker started, by group.",
    );
    this.#redispatched = r.counter(
      "modulate_worker_redispatches_total",
      "Attempts started here after an earlier attempt of the same job (a worker lost or stopped).",
    );
    this.#oomKills = r.counter(
      "modulate_worker_oom_kills_total",
      "Jobs killed for exceeding their memory limit.",
    );
    this.#duration = r.histogram(
      "modulate_worker_job_duration_seconds",
      "Run time of finished jobs' scripts, by group and outcome.",
    );
    this.#queueWait = r.histogram(
      "modulate_worker_queue_wait_seconds",
      "Time from submission to the start of a job's first attempt, by group.",
    );
    this.#sandboxStart = r.histogram(
      "modulate_worker_sandbox_start_seconds",
      "Time from a job's arrival at the runner to its script's launch (directory, cgroup, sandbox).",
    );
    this.#launches = r.counter(
      "modulate_worker_launches_total",
      "Scripts launched, by how: warm (in a python started before the job), standby (exec'd by the slot's waiting process), cold (spawned).",
    );
    // Every series this worker will have starts at 0, so that rate() and increase() see its
    // first job and a dashboard shows 0 rather than "no data".
    const group = { group: this.#group };
    for (const counter of [this.#started, this.#redispatched, this.#oomKills])
      counter.inc(group, 0);
    for (const outcome of ["succeeded", "failed", "timed_out", "canceled"])
      this.#jobs.inc({ ...group, outcome }, 0);
    for (const start of ["warm", "standby", "cold"]) this.#launches.inc({ ...group, start }, 0);
    const slots = r.gauge("modulate_worker_slots", "Job slots of this worker, by state.");
    const gpus = r.gauge("modulate_worker_gpus", "GPUs of this worker, by state.");
    r.onCollect(() => {
      const busy = sources.busySlots();
      const group = this.#group;
      slots.set({ group, state: "busy" }, busy);
      slots.set({ group, state: "free" }, Math.max(0, sources.slots - busy));
      const g = sources.gpus();
      gpus.set({ group, state: "busy" }, g.busy);
      gpus.set({ group, state: "free" }, Math.max(0, g.total - g.busy));
    });
  }

  /** An attempt started (the worker's onStart). */
  started(spec: JobSpec, attempt: number): void {
    const labels = { group: this.#group };
    this.#started.inc(labels);
    if (attempt > 1) this.#redispatched.inc(labels);
    else this.#queueWait.observe(labels, Math.max(0, this.#clock() - spec.submittedAt) / 1000);
  }

  /** A job ended here (the worker's onFinish). */
  finished(result: JobResult): void {
    const labels = { group: this.#group, outcome: result.state };
    this.#jobs.inc(labels);
    if (result.startedAt !== null) this.#duration.observe(labels, result.durationMs / 1000);
  }

  launched(_spec: JobSpec, seconds: number, start: LaunchStart): void {
    this.#sandboxStart.observe({ group: this.#group }, seconds);
    this.#launches.inc({ group: this.#group, start });
  }

  ended(_spec: JobSpec, ending: { oomKilled: boolean }): void {
    if (ending.oomKilled) this.#oomKills.inc({ group: this.#group });
  }

  exposition(): Promise<string> {
    return this.registry.exposition();
  }
}
