// What a job asks of its worker beyond a slot: GPUs (`submit --gpus`) and a named interpreter
// (`submit --interpreter`). Pure rules, shared by `submit`, the router's checks, the worker's
// gate and the reasons `ls` gives.
import type { JobSpec } from "./job.ts";

/** GPUs one job holds: whole GPUs (0: none), or a share of one GPU. */
export type GpuAsk =
  { readonly kind: "whole"; readonly count: number } | { readonly kind: "shared" };

/** Most GPUs one job may ask for: more than any one machine has. */
export const MAX_GPUS_ASKED = 1024;

/** `--gpus` of `submit`: a whole number, or "shared". */
export function parseGpusAsked(text: string): number | "shared" | undefined {
  const trimmed = text.trim();
  if (trimmed === "shared") return "shared";
  if (!/^\d+$/.test(trimmed)) return undefined;
  const count = Number(trimmed);
  return count <= MAX_GPUS_ASKED ? count : undefined;
}

/** What is wrong with a spec's `gpus`, if anything. */
export function gpusAskedProblem(gpus: JobSpec["gpus"]): string | undefined {
  if (gpus === undefined || gpus === "shared") return undefined;
  if (Number.isInteger(gpus) && gpus >= 0 && gpus <= MAX_GPUS_ASKED) return undefined;
  return `gpus ${JSON.stringify(gpus)} is not a whole number of GPUs (0 to ${MAX_GPUS_ASKED}) or "shared"`;
}

/**
 * What the job holds on a worker with `workerGpus` GPUs: without `--gpus`, one GPU where the
 * worker has any and none where it has none.
 */
export function gpuAskOf(gpus: JobSpec["gpus"], workerGpus: number): GpuAsk {
  if (gpus === "shared") return { kind: "shared" };
  if (gpus === undefined) return { kind: "whole", count: workerGpus > 0 ? 1 : 0 };
  return { kind: "whole", count: gpus };
}

/** GPUs a worker must have at all to serve the ask. */
export function gpusNeeded(ask: GpuAsk): number {
  return ask.kind === "shared" ? 1 : ask.count;
}

export function describeGpuAsk(ask: GpuAsk): string {
  if (ask.kind === "shared") return "a share of a GPU";
  return `${ask.count} GPU${ask.count === 1 ? "" : "s"}`;
}

const INTERPRETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** What is wrong with an interpreter's name, if anything. */
export function interpreterNameProblem(name: string): string | undefined {
  if (INTERPRETER_NAME.test(name)) return undefined;
  return `interpreter name ${JSON.stringify(name)} is not valid: a letter, then letters, digits, '_', '.' or '-' (at most 64)`;
}

/** The refusal of a job asking for an interpreter none of `offered` is. */
export function interpreterRefusal(
  name: string,
  group: string,
  offered: readonly string[],
): string {
  const list = offered.length === 0 ? "none" : [...offered].sort().join(", ");
  return `interpreter ${name} is not offered by group ${group} (it offers: ${list}); declare it with worker --interpreter ${name}=PATH, or submit with one of those`;
}
