// Names and paths derived from a submission: none may step outside the directory it belongs to.
import path from "node:path";
import { SandboxInputError } from "./errors.ts";

const MAX_NAME_CHARS = 64;

/** 32-bit FNV-1a: short and stable; only used to keep sanitised names apart. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * A job id as one safe path component. Ids that had to be changed get a hash of the original
 * appended, so "a/b" and "a_b" never share a directory.
 */
export function safeName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, MAX_NAME_CHARS);
  if (cleaned === id && cleaned.length > 0) return cleaned;
  return `${cleaned}_${fnv1a(id)}`;
}

/** `<logDir>/<job>`: the directory of a job's attempt logs. */
export function jobLogDir(logDir: string, jobId: string): string {
  return path.join(logDir, safeName(jobId));
}

/** `<logDir>/<job>/attempt-<n>.jsonl`: what `logs` and the dashboard read. */
export function attemptLogFile(jobLogDirPath: string, attempt: number): string {
  return path.join(jobLogDirPath, `attempt-${attempt}.jsonl`);
}

export function validateScriptName(name: string): void {
  if (
    name.length === 0 ||
    name.length > 255 ||
    name.includes("/") ||
    name.includes("\0") ||
    name === "." ||
    name === ".."
  ) {
    throw new SandboxInputError(
      `script name ${JSON.stringify(name)} is not a plain file name: expected e.g. "train.py"`,
    );
  }
}

/** A declared output, normalised; throws unless it stays inside the job's directory. */
export function validateOutputPath(declared: string): string {
  const normalised = path.posix.normalize(declared);
  if (
    declared.length === 0 ||
    declared.includes("\0") ||
    path.posix.isAbsolute(normalised) ||
    normalised === "." ||
    normalised === ".." ||
    normalised.startsWith("../")
  ) {
    throw new SandboxInputError(
      `--output ${JSON.stringify(declared)} is outside the job's directory: give a relative path such as "model.pt"`,
    );
  }
  return normalised;
}
