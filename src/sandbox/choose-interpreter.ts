// Which program runs a script: by extension first, then by its #! line.
import { SandboxInputError } from "./errors.ts";
import type { Interpreters, ResolvedInterpreter } from "./types.ts";

export type ScriptCommand =
  | {
      readonly kind: "interpreter";
      readonly runtime: keyof Interpreters;
      readonly interpreter: ResolvedInterpreter;
    }
  | { readonly kind: "shebang" };

const BY_EXTENSION: Readonly<Record<string, keyof Interpreters>> = {
  ".py": "python",
  ".sh": "bash",
  ".js": "node",
  ".mjs": "node",
  ".cjs": "node",
};

const INTERPRETER_WORDS: Readonly<Record<keyof Interpreters, string>> = {
  python: "python3",
  bash: "bash",
  node: "a node script host",
};

function startsWithShebang(script: string | Uint8Array): boolean {
  if (typeof script === "string") return script.startsWith("#!");
  return script.length >= 2 && script[0] === 0x23 && script[1] === 0x21;
}

/**
 * The extension wins over a #! line, so `train.py` always gets the worker's python3 in
 * isolated mode even when its first line names another one.
 */
export function chooseInterpreter(
  scriptName: string,
  script: string | Uint8Array,
  interpreters: Interpreters,
): ScriptCommand {
  const dot = scriptName.lastIndexOf(".");
  const extension = dot > 0 ? scriptName.slice(dot).toLowerCase() : "";
  const key = BY_EXTENSION[extension];
  if (key !== undefined) {
    const interpreter = interpreters[key];
    if (!interpreter) {
      throw new SandboxInputError(
        `cannot run ${scriptName}: this worker has no ${INTERPRETER_WORDS[key]}; install it or submit to another group`,
      );
    }
    return { kind: "interpreter", runtime: key, interpreter };
  }
  if (startsWithShebang(script)) return { kind: "shebang" };
  throw new SandboxInputError(
    `cannot run ${scriptName}: expected a .py, .sh, .js or .mjs script, or one whose first line is #!interpreter`,
  );
}
