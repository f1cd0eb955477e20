// Finds the interpreters once at start-up, as real executables the job user can run. A
// pyenv shim on PATH costs ~120 ms a job and often sits in root's home; the python it
// resolves to is found once and the shim never runs again.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { isSea } from "node:sea";
import { execa } from "execa";
import { canExecuteAs } from "./permissions.ts";
import { PYTHON_FLAGS } from "./python-flags.ts";
import type { Interpreters, JobUser, ResolvedInterpreter } from "./types.ts";

/** Where system tools are looked for after the worker's own PATH: sbin too, as root's has. */
export const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The first executable `name` on `searchPath`, or undefined. */
export async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(":")) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const SYSTEM_PYTHON = "/usr/bin/python3";

export async function resolvePython(
  searchPath: string,
  user: JobUser | undefined,
): Promise<ResolvedInterpreter | undefined> {
  const onPath = await findOnPath("python3", searchPath);
  if (onPath) {
    // Ask python itself: resolves pyenv, conda and other shims to the binary they would run.
    const asked = await execa(onPath, ["-c", "import sys; print(sys.executable)"], {
      reject: false,
      timeout: 10_000,
    });
    const executable = asked.exitCode === 0 ? asked.stdout.trim() : "";
    if (executable && (await canExecuteAs(executable, user))) {
      const note =
        executable === onPath
          ? `python3: ${executable}`
          : `python3: ${executable} (PATH's python3 is ${onPath}; resolved once)`;
      return { path: executable, prefixArgs: [...PYTHON_FLAGS], note };
    }
  }
  if (await canExecuteAs(SYSTEM_PYTHON, user)) {
    const why = onPath ? ` (${onPath} is not executable by ${user?.name ?? "the worker"})` : "";
    return {
      path: SYSTEM_PYTHON,
      prefixArgs: [...PYTHON_FLAGS],
      note: `python3: ${SYSTEM_PYTHON}${why}`,
    };
  }
  return undefined;
}

async function resolveBash(
  searchPath: string,
  user: JobUser | undefined,
): Promise<ResolvedInterpreter | undefined> {
  const onPath = await findOnPath("bash", searchPath);
  if (!onPath || !(await canExecuteAs(onPath, user))) return undefined;
  return { path: onPath, prefixArgs: [], note: `bash: ${onPath}` };
}

/**
 * In the single executable, `process.execPath` is modulate itself, so scripts go through its
 * internal `__script-host` command; in a checkout it is a plain node that runs them natively.
 */
async function resolveNodeHost(
  user: JobUser | undefined,
): Promise<ResolvedInterpreter | undefined> {
  if (!(await canExecuteAs(process.execPath, user))) return undefined;
  if (isSea()) {
    return {
      path: process.execPath,
      prefixArgs: ["__script-host", "--"],
      note: `node: ${process.execPath} __script-host (built in)`,
    };
  }
  return { path: process.execPath, prefixArgs: [], note: `node: ${process.execPath}` };
}

export async function resolveInterpreters(
  searchPath: string,
  user: JobUser | undefined,
): Promise<Interpreters> {
  const [python, bash, node] = await Promise.all([
    resolvePython(searchPath, user),
    resolveBash(searchPath, user),
    resolveNodeHost(user),
  ]);
  return { ...(python ? { python } : {}), ...(bash ? { bash } : {}), ...(node ? { node } : {}) };
}
