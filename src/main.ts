// Entry of every build. bin/modulate imports `runProcess` from the dev bundle; the single
// executable has no shim, so there this module runs it itself.
import { isSea } from "node:sea";

/** How long a finished command waits for its last output to drain before it exits anyway. */
const EXIT_GRACE_MS = 1_000;

/**
 * The command line's parser and every command, loaded only when a command runs; a plain
 * `submit` and a plain `ls` run without them (quick-submit.ts, quick-ls.ts), as their starts
 * are what users wait for most.
 */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "submit") {
    const code = await (await import("./quick-submit.ts")).submitWithoutParser(argv);
    if (code !== undefined) return code;
  } else if (argv[0] === "ls") {
    const code = await (await import("./quick-ls.ts")).lsWithoutParser(argv);
    if (code !== undefined) return code;
  }
  return (await import("./cli.ts")).main(argv);
}

/**
 * Runs the command line as this process and ends the process with its exit code. Once main
 * has returned, the command is over: a library's stray timer or reconnect loop (the SDK's
 * poller, after its server went away) must not keep a stopped router or worker alive.
 * `modulate --version` alone is answered here, without loading the parser and the commands
 * (half its start-up in the single executable); it prints what the parser would.
 */
export async function runProcess(argv: readonly string[]): Promise<void> {
  if (argv.length === 1 && argv[0] === "--version") {
    // Loaded here, not at the top: what it imports (the protocol's names) would otherwise be
    // chunks more that `submit` loads before its own one file.
    const { versionText } = await import("./modes/version.ts");
    process.stdout.write(`${versionText()}\n`);
    return;
  }
  const code = await main(argv);
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

if (isSea()) await runProcess(process.argv.slice(2));
