// `modulate install-service server|router|worker [flags]`: makes that command a systemd
// service. The flags after the mode are the mode's own, checked here against its options and
// written into the unit as given; --print shows the unit instead of installing it.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import type { Options } from "yargs";
import { ExitCode, UserError } from "../common/errors.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import { routerCommand } from "./router.ts";
import { serverCommand } from "./server.ts";
import { DEFAULT_ENV_FILE, SERVICE_MODES, serviceUnit, type ServiceMode } from "./service-unit.ts";
import { workerCommand } from "./worker.ts";

const DEFAULT_UNIT_DIR = "/etc/systemd/system";

const options = {
  print: {
    type: "boolean",
    default: false,
    describe: "Print the unit to stdout and install nothing (works without systemd)",
  },
  name: {
    type: "string",
    describe: "The unit's name [default: modulate-server, modulate-router, modulate-worker-GROUP]",
  },
  executable: {
    type: "string",
    describe: "The modulate file the unit runs [default: this one]",
  },
  "run-user": {
    type: "string",
    describe: "The user the service runs as [default: root; a worker needs root for --run-as]",
  },
  "env-file": {
    type: "string",
    default: DEFAULT_ENV_FILE,
    describe: "Environment file of the unit, for RESONATE_URL and RESONATE_TOKEN (optional)",
  },
  "unit-dir": {
    type: "string",
    default: DEFAULT_UNIT_DIR,
    describe: "Where the unit file goes",
  },
  start: {
    type: "boolean",
    default: true,
    describe: "Then systemctl daemon-reload and enable --now it (--no-start: only write it)",
  },
} as const;

/** The options of each mode, to check the flags written into its unit. */
const MODE_OPTIONS: Readonly<Record<ServiceMode, Readonly<Record<string, Options>>>> = {
  server: serverCommand.options,
  router: routerCommand.options,
  worker: workerCommand.options,
};

export const installServiceCommand = defineCommand({
  command: "install-service",
  describe: "Make server, router or worker (with its flags) a systemd service; --print shows it",
  positional: { name: "mode", describe: "server, router or worker; its flags follow" },
  options,
  passUnknownOptions: true,
  epilogue: [
    "Example: modulate install-service worker --group gpu --url http://head:8001",
    "The unit restarts modulate on failure, stops it with SIGTERM (a worker hands its running",
    "jobs back to its group, to run again on a peer or on itself once restarted), and logs to",
    `the journal (journalctl -u modulate-worker-gpu). Tokens go in ${DEFAULT_ENV_FILE}`,
    "(RESONATE_TOKEN=...), never on the command line: a unit file is readable by every user.",
  ].join("\n"),
  run: (args, ctx) =>
    runInstallService(args, ctx, {
      executable: defaultExecutable,
      systemdRunning: () => existsSync("/run/systemd/system"),
      systemctl: runSystemctl,
      cwd: process.cwd(),
    }),
});

export type InstallServiceArgs = ModeArgs<typeof options> & { readonly mode: string };

export interface InstallServiceDeps {
  /** The absolute path of the modulate file running now. */
  readonly executable: () => string;
  /** Whether systemd manages this machine (/run/systemd/system exists). */
  readonly systemdRunning: () => boolean;
  readonly systemctl: (args: readonly string[]) => Promise<void>;
  /** Relative paths among the flags (--data ./d) are made absolute against it. */
  readonly cwd: string;
}

/**
 * The single executable is process.execPath; from a checkout, the bin/modulate shim that Node
 * was asked to run.
 */
function defaultExecutable(): string {
  const isSea = process.getBuiltinModule("node:sea").isSea();
  return isSea ? process.execPath : resolve(process.argv[1] ?? "modulate");
}

async function runSystemctl(args: readonly string[]): Promise<void> {
  const { execFile } = process.getBuiltinModule("node:child_process");
  await new Promise<void>((done, fail) => {
    execFile("systemctl", [...args], (error, _stdout, stderr) => {
      if (error) fail(new UserError(`systemctl ${args.join(" ")} failed: ${stderr.trim()}`));
      else done();
    });
  });
}

const camel = (name: string): string =>
  name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Flags whose value is a path: made absolute, since a service does not run in this directory. */
const PATH_FLAGS: ReadonlySet<string> = new Set([
  "data",
  "work-dir",
  "routes",
  "auth-public-key",
  "python",
]);

/**
 * The mode's flags, rebuilt from what yargs parsed without knowing them (install-service lets
 * unknown flags through): each one the mode takes, in the order of its options. A flag it
 * does not take is the user's error, as the mode itself would say.
 */
export function serviceFlags(
  mode: ServiceMode,
  args: Readonly<Record<string, unknown>>,
  cwd: string,
): string[] {
  const modeOptions = MODE_OPTIONS[mode];
  const known = new Set<string>(["_", "$0", "--", "mode"]);
  for (const name of [...Object.keys(options), ...Object.keys(modeOptions)]) {
    known.add(name).add(camel(name));
  }
  for (const key of Object.keys(args)) {
    if (!known.has(key)) {
      throw new UserError(
        `modulate ${mode} has no option --${key}: modulate ${mode} --help lists its options`,
      );
    }
  }
  // yargs' `_` holds the command's own name, then any word left over.
  const words: unknown[] = Array.isArray(args["_"]) ? args["_"] : [];
  const extra = words.filter((word) => word !== installServiceCommand.command);
  if (extra.length > 0) {
    throw new UserError(
      `modulate ${mode} takes no word ${JSON.stringify(String(extra[0]))}, only flags: modulate install-service ${mode} --flag value ...`,
    );
  }
  const flags: string[] = [];
  for (const [name, option] of Object.entries(modeOptions)) {
    const value = args[name];
    if (value === undefined) {
      if (option.demandOption) {
        throw new UserError(
          `modulate ${mode} needs --${name}: give it after the mode (modulate install-service ${mode} --${name} ...)`,
        );
      }
      continue;
    }
    if (name === "token") {
      throw new UserError(
        `--token would be written into the unit, which every user can read: put RESONATE_TOKEN=... in the unit's environment file (--env-file, ${DEFAULT_ENV_FILE}, mode 600) instead`,
      );
    }
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one === "boolean") {
        flags.push(one ? `--${name}` : `--no-${name}`);
      } else {
        const text = String(one);
        const absolute = PATH_FLAGS.has(name) && !isAbsolute(text) ? resolve(cwd, text) : text;
        flags.push(`--${name}`, absolute);
      }
    }
  }
  return flags;
}

function unitName(mode: ServiceMode, args: InstallServiceArgs): string {
  if (args.name !== undefined) {
    if (!/^[A-Za-z0-9:_.@-]+$/.test(args.name)) {
      throw new UserError(
        `--name ${args.name}: a unit's name is letters, digits and :_.@- only (e.g. modulate-worker-gpu)`,
      );
    }
    return args.name.replace(/\.service$/, "");
  }
  if (mode !== "worker") return `modulate-${mode}`;
  const group = (args as Record<string, unknown>)["group"];
  return `modulate-worker-${String(group).replaceAll(/[^A-Za-z0-9:_.@-]/g, "_")}`;
}

export async function runInstallService(
  args: InstallServiceArgs,
  ctx: CliContext,
  deps: InstallServiceDeps,
): Promise<number> {
  const mode = SERVICE_MODES.find((m) => m === args.mode);
  if (mode === undefined) {
    throw new UserError(
      `install-service takes server, router or worker, not ${JSON.stringify(args.mode)}: modulate install-service worker --group G --url URL`,
    );
  }
  const flags = serviceFlags(mode, args, deps.cwd);
  const executable = args.executable === undefined ? deps.executable() : resolve(args.executable);
  const name = unitName(mode, args);
  const unit = serviceUnit({
    mode,
    executable,
    args: flags,
    user: args.runUser,
    envFile: args.envFile,
    madeBy: ["modulate", "install-service", mode, ...flags].join(" "),
  });
  if (args.print) {
    ctx.stdout.write(unit);
    return ExitCode.ok;
  }
  const systemd = deps.systemdRunning();
  if (!systemd && args.unitDir === DEFAULT_UNIT_DIR) {
    throw new UserError(
      `systemd does not run on this machine (no /run/systemd/system): modulate install-service ${mode} --print shows the unit to install by hand, or --unit-dir DIR writes it there`,
    );
  }
  const file = join(args.unitDir, `${name}.service`);
  await mkdir(args.unitDir, { recursive: true });
  await writeFile(file, unit, { mode: 0o644 });
  ctx.stdout.write(`wrote ${file}\n`);
  if (!args.start || !systemd) {
    ctx.stdout.write(`start it with: systemctl daemon-reload && systemctl enable --now ${name}\n`);
    return ExitCode.ok;
  }
  await deps.systemctl(["daemon-reload"]);
  await deps.systemctl(["enable", "--now", name]);
  ctx.stdout.write(`started ${name}: journalctl -u ${name} -f shows its log\n`);
  return ExitCode.ok;
}
