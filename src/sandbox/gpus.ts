// GPUs: which ones a worker owns (`--gpus auto|N|LIST`) and which job holds which set. A GPU
// goes back only when the caller releases it, and the caller does so after `execute` has
// resolved, which is after every process of the job is gone: a killed job's orphan can no
// longer be holding GPU memory when the next job starts on that GPU.
import { execa } from "execa";
import { SandboxSetupError } from "./errors.ts";

export type GpuSpec =
  | { readonly kind: "auto" }
  | { readonly kind: "count"; readonly count: number }
  | { readonly kind: "list"; readonly ids: readonly string[] };

/** Parses `--gpus`: "auto", a count such as "2", or a list such as "0,2" or "GPU-ab12,GPU-cd34". */
export function parseGpuOption(text: string): GpuSpec {
  const trimmed = text.trim();
  if (trimmed === "auto") return { kind: "auto" };
  if (/^\d+$/.test(trimmed)) return { kind: "count", count: Number(trimmed) };
  const ids = trimmed.split(",").map((id) => id.trim());
  if (
    ids.length > 0 &&
    ids.every((id) => /^[A-Za-z0-9-]+$/.test(id)) &&
    new Set(ids).size === ids.length
  ) {
    return { kind: "list", ids };
  }
  throw new SandboxSetupError(
    `--gpus ${JSON.stringify(text)} is not valid: expected auto, a count such as 2, or a list of distinct ids such as 0,1`,
  );
}

/** Indices from `nvidia-smi -L` lines: "GPU 0: NVIDIA H100 (UUID: GPU-...)". */
function parseNvidiaSmiList(output: string): string[] {
  const ids: string[] = [];
  for (const line of output.split("\n")) {
    const match = /^GPU (\d+):/.exec(line.trim());
    if (match?.[1] !== undefined) ids.push(match[1]);
  }
  return ids;
}

/** Counts GPUs with `nvidia-smi -L`; none when it is missing or fails. */
export async function detectGpus(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string[]> {
  const result = await execa("nvidia-smi", ["-L"], {
    reject: false,
    timeout: 15_000,
    env,
    extendEnv: false,
  });
  return result.exitCode === 0 ? parseNvidiaSmiList(result.stdout) : [];
}

/** The GPU ids a worker may hand out, from its `--gpus` option. */
export async function resolveGpus(
  spec: GpuSpec,
  detect: () => Promise<string[]> = detectGpus,
): Promise<string[]> {
  if (spec.kind === "list") return [...spec.ids];
  const found = await detect();
  if (spec.kind === "auto") return found;
  if (spec.count > found.length) {
    throw new SandboxSetupError(
      `--gpus ${spec.count}: only ${found.length} GPU(s) found by nvidia-smi -L`,
    );
  }
  return found.slice(0, spec.count);
}

/** What one job holds: whole GPUs (0: none), or a share of one GPU. */
export type GpuDemand =
  { readonly kind: "whole"; readonly count: number } | { readonly kind: "shared" };

export interface GpuLease {
  readonly ids: readonly string[];
  readonly shared: boolean;
  /** Taken while GPUs were kept for an older job that waits (gpu-pass.ts). */
  readonly pastWaiting: boolean;
}

/**
 * Hands out GPU sets: a job asking for N whole GPUs gets N GPUs nobody else holds, not even a
 * sharer; a job asking for a share gets one GPU that at most `jobsPerGpu` sharers hold at
 * once and no whole-GPU job does. `take` never waits: the caller decides who waits and how.
 */
export class GpuSets {
  readonly #ids: readonly string[];
  readonly #jobsPerGpu: number;
  /** Per GPU: "whole" while a whole-GPU job holds it, else how many sharers hold it. */
  readonly #holders = new Map<string, "whole" | number>();
  readonly #held = new Set<GpuLease>();

  constructor(ids: readonly string[], jobsPerGpu = 1) {
    if (!Number.isInteger(jobsPerGpu) || jobsPerGpu < 1) {
      throw new RangeError(`jobs per GPU must be a positive whole number, not ${jobsPerGpu}`);
    }
    this.#ids = [...ids];
    this.#jobsPerGpu = jobsPerGpu;
    for (const id of ids) this.#holders.set(id, 0);
  }

  get size(): number {
    return this.#ids.length;
  }

  get ids(): readonly string[] {
    return this.#ids;
  }

  /** GPUs no job holds now, whole or shared. */
  get freeCount(): number {
    return this.#ids.filter((id) => this.#holders.get(id) === 0).length;
  }

  /** Whether the demand could be met here once every job has let its GPUs go. */
  canEverServe(demand: GpuDemand): boolean {
    return demand.kind === "shared" ? this.size > 0 : demand.count <= this.size;
  }

  /**
   * The GPUs for `demand` if they are free now, held until `release`; else undefined.
   * `keptForOlder` GPUs are kept for older jobs that wait (gpu-pass.ts): then the GPUs held by
   * jobs that went past a waiting one, this one's included, must leave that many of the
   * worker's GPUs to the waiting ones, so what they wait for frees once the jobs before them end.
   */
  take(demand: GpuDemand, keptForOlder = 0): GpuLease | undefined {
    const pastWaiting = keptForOlder > 0;
    const heldPast = pastWaiting ? this.#heldPastWaiting() : new Set<string>();
    const fits = (ids: readonly string[]): boolean =>
      !pastWaiting || new Set([...heldPast, ...ids]).size <= this.size - keptForOlder;
    if (demand.kind === "shared") {
      // Sharers pack onto a GPU already shared, keeping whole GPUs free for whole-GPU jobs;
      // past a waiting job, onto one that jobs past it share already, if any.
      let best: string | undefined;
      let bestRank = -1;
      for (const id of this.#ids) {
        const holders = this.#holders.get(id);
        if (typeof holders !== "number" || holders >= this.#jobsPerGpu || !fits([id])) continue;
        const rank = (heldPast.has(id) ? this.#jobsPerGpu + 1 : 0) + holders;
        if (rank > bestRank) {
          best = id;
          bestRank = rank;
        }
      }
      if (best === undefined) return undefined;
      const holders = this.#holders.get(best);
      this.#holders.set(best, (typeof holders === "number" ? holders : 0) + 1);
      return this.#lease([best], true, pastWaiting);
    }
    const free = this.#ids.filter((id) => this.#holders.get(id) === 0);
    if (free.length < demand.count) return undefined;
    const ids = free.slice(0, demand.count);
    if (!fits(ids)) return undefined;
    for (const id of ids) this.#holders.set(id, "whole");
    return this.#lease(ids, false, pastWaiting);
  }

  /** GPUs that some job holds which was let past an older waiting one. */
  #heldPastWaiting(): Set<string> {
    const ids = new Set<string>();
    for (const lease of this.#held) if (lease.pastWaiting) for (const id of lease.ids) ids.add(id);
    return ids;
  }

  /** Gives the lease's GPUs back: call only once the job's processes are all gone. */
  release(lease: GpuLease): void {
    if (!this.#held.delete(lease)) return;
    for (const id of lease.ids) {
      const holders = this.#holders.get(id);
      this.#holders.set(id, lease.shared && typeof holders === "number" ? holders - 1 : 0);
    }
  }

  #lease(ids: string[], shared: boolean, pastWaiting: boolean): GpuLease {
    const lease: GpuLease = { ids, shared, pastWaiting };
    this.#held.add(lease);
    return lease;
  }
}

/** One GPU as `nvidia-smi --query-gpu=index,name,memory.total` describes it. */
export interface GpuDescription {
  readonly index: string;
  readonly name: string;
  readonly memoryMiB: number;
}

/** Lines of `--format=csv,noheader,nounits`: "0, NVIDIA H100 80GB HBM3, 81559". */
export function parseGpuQuery(output: string): GpuDescription[] {
  const found: GpuDescription[] = [];
  for (const line of output.split("\n")) {
    const first = line.indexOf(",");
    const last = line.lastIndexOf(",");
    if (first < 0 || last <= first) continue;
    const index = line.slice(0, first).trim();
    const name = line.slice(first + 1, last).trim();
    const memory = Number(line.slice(last + 1).trim());
    if (!/^\d+$/.test(index) || !Number.isFinite(memory) || name === "") continue;
    found.push({ index, name, memoryMiB: memory });
  }
  return found;
}

/** Names and memory of the machine's GPUs; none where nvidia-smi is missing or fails. */
export async function describeGpus(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<GpuDescription[]> {
  const result = await execa(
    "nvidia-smi",
    ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"],
    { reject: false, timeout: 15_000, env, extendEnv: false },
  );
  return result.exitCode === 0 ? parseGpuQuery(result.stdout) : [];
}
