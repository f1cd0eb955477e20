// Which program on this worker runs a script. What kind of script it is comes from the one
// rule every process shares (script-kind.ts); this only finds the worker's interpreter for it.
import { SandboxInputError } from "./errors.ts";
import { scriptKind, unrunnableScriptMessage, type ScriptRuntime } from "./script-kind.ts";
import type { Interpreters, ResolvedInterpreter } from "./types.ts";

export type ScriptCommand =
  | {
      readonly kind: "interpreter";
      readonly runtime: ScriptRuntime;
      readonly interpreter: ResolvedInterpreter;
    }
  | { readonly kind: "shebang" };

const INTERPRETER_WORDS: Readonly<Record<ScriptRuntime, string>> = {
  python: "python3",
  bash: "bash",
  node: "a node script host",
};

/** Throws `SandboxInputError` for a script nothing runs, or whose interpreter this worker lacks. */
export function chooseInterpreter(
  scriptName: string,
  script: string | Uint8Array,
  interpreters: Interpreters,
): ScriptCommand {
  const kind = scriptKind(scriptName, script);
  if (kind === undefined) throw new SandboxInputError(unrunnableScriptMessage(scriptName));
  if (kind.kind === "shebang") return { kind: "shebang" };
  const interpreter = interpreters[kind.runtime];
  if (!interpreter) {
    throw new SandboxInputError(
      `cannot run ${scriptName}: this worker has no ${INTERPRETER_WORDS[kind.runtime]}; install it or submit to another group`,
    );
  }
  return { kind: "interpreter", runtime: kind.runtime, interpreter };
}
