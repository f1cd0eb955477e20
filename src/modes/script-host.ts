import { parseScriptHostArgv, runScriptFile, SCRIPT_HOST_COMMAND } from "../sandbox/script-host.ts";

/**
 * Internal: `modulate __script-host -- FILE ARGS...` runs a job's .js/.mjs script inside the
 * sandbox; the worker spawns it and users never type it. It is answered before yargs parses
 * anything, because yargs would turn the script's numeric-looking arguments into numbers
 * ("007" -> 7), and it stays out of `--help`. Returns undefined for every other command line.
 */
export async function hostScriptIfAsked(argv: readonly string[]): Promise<number | undefined> {
  if (argv[0] !== SCRIPT_HOST_COMMAND) return undefined;
  const invocation = parseScriptHostArgv(argv);
  if (!invocation) {
    process.stderr.write(`modulate: usage: modulate ${SCRIPT_HOST_COMMAND} -- FILE [ARGS...]\n`);
    return 2;
  }
  hideHostWarnings();
  await runScriptFile(invocation.file, invocation.args);
  // A script that set process.exitCode keeps it; otherwise node's default of 0.
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}

/**
 * The host loads scripts with vm's USE_MAIN_CONTEXT_DEFAULT_LOADER, which Node flags as
 * experimental on every run: that warning is ours, not the job's, so it stays out of the
 * job's stderr. Every other warning is printed as Node would.
 */
function hideHostWarnings(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (
      warning.name === "ExperimentalWarning" &&
      warning.message.includes("USE_MAIN_CONTEXT_DEFAULT_LOADER")
    )
      return;
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
}
