// The systemd unit `modulate install-service` writes for a server, a router or a worker: the
// same command line as a service, restarted on failure, stopped with SIGTERM to modulate alone
// (it stops its jobs itself), logging to the journal. Pure: text in, text out.

export type ServiceMode = "server" | "router" | "worker";

export const SERVICE_MODES: readonly ServiceMode[] = ["server", "router", "worker"];

/** Where a unit reads RESONATE_URL and RESONATE_TOKEN; optional ('-'), and never world-readable. */
export const DEFAULT_ENV_FILE = "/etc/modulate/modulate.env";

export interface ServiceUnitSpec {
  readonly mode: ServiceMode;
  /** The absolute path of the modulate executable the unit runs. */
  readonly executable: string;
  /** The mode's own flags, word by word, as the user gave them. */
  readonly args: readonly string[];
  /** The user the service runs as; root where absent (a worker needs root for its job user). */
  readonly user?: string | undefined;
  /** An EnvironmentFile (RESONATE_URL, RESONATE_TOKEN): optional, so a node without one starts. */
  readonly envFile: string;
  /** The whole `modulate install-service ...` line, recorded at the top of the unit. */
  readonly madeBy: string;
}

/**
 * How long systemd waits after SIGTERM before it sends SIGKILL. A worker stopping waits up to
 * 5 s for answers on their way, kills its jobs (SIGTERM, SIGKILL a second later) and hands
 * them back; a server commits what it holds and closes its store.
 */
const STOP_TIMEOUT_S: Readonly<Record<ServiceMode, number>> = {
  server: 30,
  router: 15,
  worker: 30,
};

const DESCRIPTION: Readonly<Record<ServiceMode, string>> = {
  server: "modulate server: the embedded durable Resonate server",
  router: "modulate router: routes submitted jobs to worker groups",
  worker: "modulate worker: runs submitted scripts for its group",
};

/** A word of ExecStart as systemd splits and expands it: quoted where needed, % and $ doubled. */
export function execWord(word: string): string {
  const escaped = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

/** A line of the unit may not hold a newline: the comment line and the description. */
function oneLine(text: string): string {
  return text.replaceAll(/[\r\n]+/g, " ");
}

/** The unit file's text. */
export function serviceUnit(spec: ServiceUnitSpec): string {
  const exec = [spec.executable, spec.mode, ...spec.args].map(execWord).join(" ");
  const lines = [
    `# Written by: ${oneLine(spec.madeBy)}`,
    "# Run it again (with new flags) to change this unit; `systemctl daemon-reload` then reads it.",
    "[Unit]",
    `Description=${DESCRIPTION[spec.mode]}`,
    "After=network-online.target",
    "Wants=network-online.target",
    // Never give up restarting: a worker whose server is down keeps waiting for it anyway.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${exec}`,
    `EnvironmentFile=-${spec.envFile}`,
    ...(spec.user === undefined ? [] : [`User=${spec.user}`]),
    "Restart=on-failure",
    "RestartSec=2s",
    // SIGTERM to modulate alone: a worker stops its own jobs and hands them back to its group.
    // A job killed by systemd first would end failed instead of running again on a peer.
    "KillMode=mixed",
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${STOP_TIMEOUT_S[spec.mode]}s`,
    // 143: stopped by SIGTERM, which is how systemd stops it.
    "SuccessExitStatus=143",
    ...(spec.mode === "worker"
      ? [
          // The worker makes a cgroup for each job under its own (memory and process limits).
          "Delegate=yes",
        ]
      : []),
    "StandardOutput=journal",
    "StandardError=journal",
    `SyslogIdentifier=modulate-${spec.mode}`,
    "LimitNOFILE=65536",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}
