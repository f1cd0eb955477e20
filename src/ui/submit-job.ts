// What the submit form does to the world: complete a path from the file system, read the
// script, and submit it through the client as `modulate submit` does.
import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import { parseBytes, parseDurationMs } from "../common/units.ts";
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
export async function specFromForm(
  values: Readonly<Record<FormField, string>>,
  now: number,
): Promise<JobSpec> {
  const path = values.script.trim();
  if (path === "") throw new Error("Script: give the path of a script file");
  const group = values.group.trim();
  const problem = groupNameProblem(group);
  if (problem) throw new Error(`Group: ${problem}`);
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`Script: cannot read ${path} (${code})`, { cause: error });
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
  };
}

/** Submits the form's job; resolves with its id once it is durable. */
export async function submitFromForm(
  client: Pick<ModulateClient, "submit">,
  values: Readonly<Record<FormField, string>>,
): Promise<string> {
  const spec = await specFromForm(values, Date.now());
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
