// GPUs: which ones a worker owns (`--gpus auto|N|LIST`) and which job holds which. A GPU goes
// back to the pool only when the caller releases it, and the caller does so after `execute`
// has resolved, which is after every process of the job is gone: a killed job's orphan can
// no longer be holding GPU memory when the next job starts on that GPU.
import { execa } from "execa";
import { SandboxSetupError } from "./errors.ts";
import { waitInQueue } from "./queued-wait.ts";

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

export interface GpuLease {
  readonly ids: readonly string[];
}

/** Hands out GPUs in first-come order; `acquire` waits while too few are free. */
export class GpuPool {
  readonly #free: string[];
  readonly #held = new Set<GpuLease>();
  readonly #waiting: { count: number; grant: (lease: GpuLease) => void }[] = [];
  readonly size: number;

  constructor(ids: readonly string[]) {
    this.#free = [...ids];
    this.size = ids.length;
  }

  get freeCount(): number {
    return this.#free.length;
  }

  /** Resolves with `count` GPUs once they are free; rejects if `signal` aborts first. */
  acquire(count: number, signal?: AbortSignal): Promise<GpuLease> {
    if (!Number.isInteger(count) || count < 0 || count > this.size) {
      return Promise.reject(
        new RangeError(`cannot acquire ${count} GPU(s) from a pool of ${this.size}`),
      );
    }
    if (this.#waiting.length === 0 && this.#free.length >= count)
      return Promise.resolve(this.#grant(count));
    return waitInQueue(
      this.#waiting,
      (grant: (lease: GpuLease) => void) => ({ count, grant }),
      signal,
      "GPU wait",
    );
  }

  /** Gives the lease's GPUs back: call only once the job's processes are all gone. */
  release(lease: GpuLease): void {
    if (!this.#held.delete(lease)) return;
    this.#free.push(...lease.ids);
    this.#free.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    while (this.#waiting.length > 0 && this.#free.length >= this.#waiting[0].count) {
      const next = this.#waiting.shift()!;
      next.grant(this.#grant(next.count));
    }
  }

  #grant(count: number): GpuLease {
    const lease: GpuLease = { ids: this.#free.splice(0, count) };
    this.#held.add(lease);
    return lease;
  }
}
