/**
 * Exit codes of every modulate command, documented in `--help` and README.
 * A failing script's own exit code passes through unchanged, so these stay clear of 1.
 */
export const ExitCode = {
  ok: 0,
  usage: 2,
  unreachable: 3,
  notFound: 4,
  /**
   * The server answered and refused the request for a reason that waiting cannot change: the
   * credentials (401), what the token allows (403), or the request itself (400).
   */
  refused: 5,
  timedOut: 124,
  canceled: 130,
  /** Stopped by SIGTERM (128 + 15), as a shell reports a process that SIGTERM ended. */
  terminated: 143,
} as const;

/** An error the user caused or can fix: printed as one line, mapped to an exit code. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.usage) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}

export const EXIT_CODES_HELP = [
  "Exit codes:",
  "  0    success",
  "  N    a failed job's own exit code",
  "  2    usage or input error",
  "  3    cannot reach the server",
  "  4    no such job",
  "  5    the server refused the request (credentials, the token's prefix, an invalid request)",
  "  124  job timed out",
  "  130  canceled, or stopped by Ctrl+C (SIGINT)",
  "  143  stopped by SIGTERM",
].join("\n");
