// The one rule for what runs a script, from its name and its first line. The client checks
// a submission by it, the router validates by it and the worker runs by it, so a script one
// of them accepts is never refused or run differently by another. Pure, with no imports but
// types: the client loads it without the sandbox's process and filesystem code.
import type { Interpreters } from "./types.ts";

/** A runtime the worker resolves once at start-up (interpreter.ts). */
export type ScriptRuntime = keyof Interpreters;

export type ScriptKind =
  /** Run by the worker's own interpreter for `runtime`, whatever the #! line says. */
  | { readonly kind: "interpreter"; readonly runtime: ScriptRuntime; readonly extension: string }
  /** Run directly, so the kernel reads the #! line: `interpreter` is what it names. */
  | { readonly kind: "shebang"; readonly interpreter: string };

/** Extensions the worker has an interpreter for, lower case, with what runs them. */
const RUNTIME_BY_EXTENSION: Readonly<Record<string, ScriptRuntime>> = {
  ".py": "python",
  ".sh": "bash",
  ".bash": "bash",
  ".js": "node",
  ".mjs": "node",
  ".cjs": "node",
};

/** What is accepted, in words, for messages and `--help`. */
const ACCEPTED_SCRIPTS =
  ".py (python3), .sh or .bash (bash), .js, .mjs or .cjs (node), or any other name whose first line is #! and an interpreter";

/** Linux reads at most this many bytes of a #! line (BINPRM_BUF_SIZE since 5.1). */
const SHEBANG_MAX_BYTES = 256;

/** The extension of the script's file name, lower case; "" for none or a dotfile (`.bashrc`). */
function extensionOf(scriptName: string): string {
  const base = scriptName.slice(scriptName.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot).toLowerCase() : "";
}

/** What the #! line names, or undefined when the script does not start with one that does. */
export function shebangInterpreter(script: string | Uint8Array): string | undefined {
  const head =
    typeof script === "string"
      ? script.slice(0, SHEBANG_MAX_BYTES)
      : new TextDecoder().decode(script.subarray(0, SHEBANG_MAX_BYTES));
  if (!head.startsWith("#!")) return undefined;
  const end = head.indexOf("\n");
  // A bare "#!" names nothing: the kernel refuses to run it (ENOEXEC).
  const interpreter = head.slice(2, end < 0 ? undefined : end).trim();
  return interpreter === "" ? undefined : interpreter;
}

/**
 * What runs the script, or undefined when nothing would.
 *
 * A known extension wins over the #! line: `train.py` always gets the worker's python3 (the
 * one it resolved at start-up, in isolated mode, runnable by the job user inside the
 * sandbox), as `ray job submit -- python train.py` runs the cluster's python and
 * `srun python train.py` the node's. A #! line written on the submitting machine often
 * names what the worker lacks (`#!/home/me/venv/bin/python`, a pyenv shim in someone's
 * home); honouring it would make the same `train.py` run differently from worker to worker.
 * A script that needs its own interpreter says so by having no known extension: it then
 * runs by its #! line, as sbatch runs a batch script.
 */
export function scriptKind(
  scriptName: string,
  script: string | Uint8Array,
): ScriptKind | undefined {
  const extension = extensionOf(scriptName);
  const runtime = RUNTIME_BY_EXTENSION[extension];
  if (runtime !== undefined) return { kind: "interpreter", runtime, extension };
  const interpreter = shebangInterpreter(script);
  return interpreter === undefined ? undefined : { kind: "shebang", interpreter };
}

/** Why a script that `scriptKind` knows nothing to run for is refused: one line, with the fix. */
export function unrunnableScriptMessage(scriptName: string): string {
  return `cannot run script ${scriptName}: modulate runs ${ACCEPTED_SCRIPTS}; rename it to the extension of its language, or make its first line name its interpreter (e.g. #!/usr/bin/env python3)`;
}

/** Why nothing would run the script; undefined when something would. */
export function scriptKindProblem(
  scriptName: string,
  script: string | Uint8Array,
): string | undefined {
  return scriptKind(scriptName, script) === undefined
    ? unrunnableScriptMessage(scriptName)
    : undefined;
}
