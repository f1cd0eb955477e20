// Human units on the command line: durations like `90s`, `10m`, `7d` and sizes like `512M`.
import { UserError } from "./errors.ts";

const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** `option` names the flag in the error, e.g. "--timeout". A bare number is seconds. */
export function parseDurationMs(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new UserError(
      `${option} "${text}" is not a duration: use a number with ms, s, m, h or d, e.g. 90s or 10m`,
    );
  }
  return Math.round(Number(match[1]) * (DURATION_MS[match[2] ?? "s"] ?? 1_000));
}

/** Binary units: `512M` is 512 MiB. A bare number is bytes. */
export function parseBytes(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) {
    throw new UserError(
      `${option} "${text}" is not a size: use a number with K, M, G or T, e.g. 512M or 2G`,
    );
  }
  return Math.round(Number(match[1]) * (SIZE_BYTES[(match[2] ?? "").toLowerCase()] ?? 1));
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 100) / 10}s`;
}
