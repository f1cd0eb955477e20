// Human units, read and written in one place: durations like `90s`, `1h30m`, `7d` and sizes
// like `512M`. What a formatter writes the parser reads back, so a default shown in --help or a
// limit named in a job's reason can be typed as a flag again.
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
const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d)?)+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)?/g;

/**
 * `option` names the flag in the error, e.g. "--timeout". A bare number is seconds; parts add
 * up, so `1h30m` is 90 minutes (the form formatDuration writes).
 */
export function parseDurationMs(text: string, option: string): number {
  const trimmed = text.trim();
  const parts = DURATION.test(trimmed) ? [...trimmed.matchAll(DURATION_PART)] : [];
  // A bare number is only allowed alone: "1h30" is more likely a typo than 1h and 30 s.
  const bareAmongOthers = parts.length > 1 && parts.some((part) => part[2] === undefined);
  if (parts.length === 0 || bareAmongOthers) {
    throw new UserError(
      `${option} "${text}" is not a duration: use a number with ms, s, m, h or d, e.g. 90s, 10m or 1h30m`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of parts)
    total += Number(amount) * (DURATION_MS[unit ?? "s"] ?? 1_000);
  return Math.round(total);
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

/** 600000 -> "10m"; 5400000 -> "1h30m"; 1500 -> "1.5s"; 7 days -> "7d". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) {
    const seconds = ms / 1000;
    return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1).replace(/\.0$/, "")}s`;
  }
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const count = Math.floor(rest / seconds);
    rest -= count * seconds;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join("");
}

/** 536870912 -> "512 MiB"; 1536 -> "1.5 KiB": one decimal only where it is not whole. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${BYTE_UNITS[unit]}`;
}
