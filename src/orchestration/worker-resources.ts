// What a worker hands out beyond slots, per job: its GPU sets, and the interpreters it declares.
// The slot gate asks here, before a task is taken, what the task's job needs (read from its
// execute promise's param) and whether this worker could serve it at all.
import { GpuPass } from "../sandbox/gpu-pass.ts";
import type { GpuLease, GpuSets } from "../sandbox/gpus.ts";
import type { JobSpec } from "./jobs/job.ts";
import { specOfParam } from "./jobs/job-param.ts";
import { EXECUTE_FUNCTION } from "./jobs/names.ts";
import { gpuAskOf, gpusNeeded } from "./jobs/resources.ts";
import type { ResourceClaim, TaskResources } from "./slot-gate.ts";
import { isOk, request, type Send } from "./wire/wire.ts";

export interface WorkerResourcesOptions {
  send: Send;
  /** The worker's GPUs; absent or empty when it has none. */
  gpus?: GpuSets | undefined;
  /** Names of the interpreters it declares (`worker --interpreter NAME=PATH`). */
  interpreters?: readonly string[];
}

export class WorkerResources implements TaskResources {
  readonly #send: Send;
  readonly #gpus: GpuSets | undefined;
  readonly #interpreters: ReadonlySet<string>;
  /** GPUs each running task holds, by task id: the runner's CUDA_VISIBLE_DEVICES. */
  readonly #leases = new Map<string, GpuLease>();

  constructor(options: WorkerResourcesOptions) {
    this.#send = options.send;
    this.#gpus = options.gpus && options.gpus.size > 0 ? options.gpus : undefined;
    this.#interpreters = new Set(options.interpreters ?? []);
  }

  /** Only a worker with GPUs reads a job before taking it: its job may have to wait here. */
  get lookUpFirst(): boolean {
    return this.#gpus !== undefined;
  }

  claimOfPromise(taskId: string, promise: unknown): ResourceClaim {
    const param = (promise as { param?: { headers?: Record<string, string>; data?: unknown } })
      ?.param;
    const reading = specOfParam(param, EXECUTE_FUNCTION);
    return this.claimFor(taskId, reading.ok ? reading.spec : undefined);
  }

  /** One look over the waiting offers: GPUs kept for older ones that must wait (gpu-pass.ts). */
  newPass(): object {
    return this.#gpus ? new GpuPass(this.#gpus) : {};
  }

  /** The GPU ids the task was given when it was let through; [] for none. */
  gpusOf(taskId: string): readonly string[] {
    return this.#leases.get(taskId)?.ids ?? [];
  }

  async claim(taskId: string): Promise<ResourceClaim> {
    return this.claimFor(taskId, await this.#specOf(taskId));
  }

  /** The claim of a task whose job is `spec` (undefined: unreadable, so a default job). */
  claimFor(taskId: string, spec: JobSpec | undefined): ResourceClaim {
    const gpus = this.#gpus;
    const ask = gpuAskOf(spec?.gpus, gpus?.size ?? 0);
    const interpreterOk =
      spec?.interpreter === undefined || this.#interpreters.has(spec.interpreter);
    const gpusOk = gpus ? gpus.canEverServe(ask) : gpusNeeded(ask) === 0;
    const leases = this.#leases;
    return {
      servable: interpreterOk && gpusOk,
      tryTake(pass?: object): boolean {
        if (!gpus || gpusNeeded(ask) === 0) return true;
        // Outside a pass (a task acquired before it was read), no older offer waits here.
        const inLine = pass instanceof GpuPass && pass.sets === gpus ? pass : new GpuPass(gpus);
        const lease = inLine.take(ask);
        if (!lease) return false;
        leases.set(taskId, lease);
        return true;
      },
      release(): void {
        const lease = leases.get(taskId);
        leases.delete(taskId);
        if (lease) gpus?.release(lease);
      },
    };
  }

  async #specOf(taskId: string): Promise<JobSpec | undefined> {
    try {
      const res = await this.#send(request("promise.get", { id: taskId }));
      if (!isOk(res)) return undefined;
      const reading = specOfParam(res.data.promise.param, EXECUTE_FUNCTION);
      return reading.ok ? reading.spec : undefined;
    } catch {
      return undefined;
    }
  }
}
