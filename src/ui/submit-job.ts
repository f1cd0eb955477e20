// What the submit form does to the world: complete a path from the file system, read the
// script, and submit it through the client as `modulate submit` does.
import { readdirSync, statSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import { DEFAULT_MAX_BODY_BYTES, maxValueJsonBytes } from "../common/limits.ts";
import { readScriptFile } from "../common/read-script.ts";
import { formatBytes, parseBytes, parseDurationMs } from "../common/units.ts";
import type { JobSpec } from "../orchestration/jobs/job.ts";
import { groupNameProblem, newJobId } from "../orchestration/jobs/names.ts";
import type { ModulateClient } from "../orchestration/client.ts";
import type { FormField } from "./form-state.ts";

/** As `modulate submit`'s --queue-timeout default: the router's own caps it. */
const QUEUE_TIMEOUT_MS = 24 * 3_600_000;

/**
 * `text` completed as far as the file system makes it unambiguous (the shell's Tab): the
 * common prefix of the entries it begins, with a "/" after a lone directory.
 */
export function completePath(text: string, cwd: string = process.cwd()): string {
  const slash = text.lastIndexOf("/");
  const dirText = text.slice(0, slash + 1);
  const stem = text.slice(slash + 1);
  const dir = dirText === "" ? cwd : isAbsolute(dirText) ? dirText : join(cwd, dirText);
  let entries: string[];
  try {
    // Hidden entries only where the stem asks for them, as shells do.
    entries = readdirSync(dir).filter(
      (e) => e.startsWith(stem) && (stem.startsWith(".") || !e.startsWith(".")),
    );
  } catch {
    return text;
  }
  const first = entries[0];
  if (first === undefined) return text;
  let common = first;
  for (const e of entries) while (!e.startsWith(common)) common = common.slice(0, -1);
  if (entries.length > 1) return dirText + common;
  try {
    return dirText + common + (statSync(join(dir, common)).isDirectory() ? "/" : "");
  } catch {
    return dirText + common;
  }
}

/** The spec the form describes; an error names the field to fix. */
export function specFromForm(values: Readonly<Record<FormField, string>>, now: number): JobSpec {
  const path = values.script.trim();
  if (path === "") throw new Error("Script: give the path of a script file");
  const group = values.group.trim();
  const problem = groupNameProblem(group);
  if (problem) throw new Error(`Group: ${problem}`);
  let content: string;
  try {
    // As `modulate submit` reads it: a regular file only (never a FIFO or a device, which
    // could hang the dashboard), at most what one submission can carry.
    const limitBytes = maxValueJsonBytes(DEFAULT_MAX_BODY_BYTES);
    const why = `${formatBytes(DEFAULT_MAX_BODY_BYTES)}, modulate server --max-body`;
    content = readScriptFile(path, limitBytes, why).toString("utf8");
  } catch (error) {
    // The form stays open with what was typed: "nothing was submitted" goes without saying.
    const why = messageOf(error).replace(/; nothing was submitted$/, "");
    throw new Error(`Script: ${why}`, { cause: error });
  }
  const memory = values.memory.trim();
  return {
    id: newJobId(now),
    group,
    script: { name: basename(path), content },
    args: values.args.trim() === "" ? [] : values.args.trim().split(/\s+/),
    timeoutMs: parseDurationMs(values.timeout.trim(), "Timeout"),
    queueTimeoutMs: QUEUE_TIMEOUT_MS,
    mode: values.mode === "wait" ? "wait" : "detach",
    submittedAt: now,
    ...(memory === "" ? {} : { limits: { memoryBytes: parseBytes(memory, "Memory") } }),
    ...gpusOf(values.gpus),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The GPUs field as the spec carries it: a count, "shared", or (empty) not set. */
function gpusOf(text: string): Pick<JobSpec, "gpus"> {
  const value = text.trim();
  if (value === "") return {};
  if (value.toLowerCase() === "shared") return { gpus: "shared" };
  if (/^\d+$/.test(value)) return { gpus: Number(value) };
  throw new Error(
    `GPUs: "${value}" is not a count of GPUs; give a whole number (0 for none), or shared for a share of one`,
  );
}

/** Submits the form's job; resolves with its id once it is durable. */
export async function submitFromForm(
  client: Pick<ModulateClient, "submit">,
  values: Readonly<Record<FormField, string>>,
): Promise<string> {
  const spec = specFromForm(values, Date.now());
  await client.submit(spec, QUEUE_TIMEOUT_MS);
  return spec.id;
}

/** Submits job `id`'s spec again as a new job (a fresh id); resolves with that id. */
export async function resubmitJob(
  client: Pick<ModulateClient, "getJob" | "submit">,
  id: string,
  now: number,
): Promise<string> {
  const { spec } = await client.getJob(id);
  const again: JobSpec = { ...spec, id: newJobId(now), submittedAt: now };
  await client.submit(again, spec.queueTimeoutMs ?? QUEUE_TIMEOUT_MS);
  return again.id;
}

/**
 * Puts `text` on the clipboard of the terminal the dashboard runs in, wherever that is (over
 * ssh, in tmux with set-clipboard on): OSC 52, which the terminal acts on and never shows.
 */
export function copyToClipboard(text: string, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`\u001B]52;c;${Buffer.from(text).toString("base64")}\u0007`);
}
