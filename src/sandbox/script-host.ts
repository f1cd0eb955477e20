// Runs a .js/.mjs/.cjs file as node would, from inside the single executable, where
// `process.execPath` is modulate rather than node. A dynamic import() compiled through
// vm.Script with the main context's default loader was seen to load ESM, CommonJS and
// top-level-await scripts there; a plain import() in the bundled entry is not resolved
// against the file system the same way.
import path from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";

/**
 * Loads `file` as the main script with `args` as its arguments (`process.argv[2..]`).
 * Resolves when its top-level code (and top-level await) has finished; the process then
 * lives on while the script has timers or handles, exactly like `node file`.
 */
export async function runScriptFile(file: string, args: readonly string[]): Promise<void> {
  const absolute = path.resolve(file);
  process.argv = [process.execPath, absolute, ...args];
  const loader = new vm.Script(`import(${JSON.stringify(pathToFileURL(absolute).href)})`, {
    filename: absolute,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  await (loader.runInThisContext() as Promise<unknown>);
}

export const SCRIPT_HOST_COMMAND = "__script-host";

/**
 * Reads `__script-host -- FILE ARGS...` from a raw argument list (without node and script),
 * exactly as given: the script's arguments must not pass through an option parser, which
 * would turn "007" into 7.
 */
export function parseScriptHostArgv(
  argv: readonly string[],
): { file: string; args: string[] } | undefined {
  const at = argv.indexOf(SCRIPT_HOST_COMMAND);
  if (at === -1 || argv[at + 1] !== "--") return undefined;
  const [file, ...args] = argv.slice(at + 2);
  return file === undefined ? undefined : { file, args };
}
