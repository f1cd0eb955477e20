/**
 * A job the sandbox refuses before running anything: an unknown script type, a bad `--env`
 * name, an output path outside the job's directory. Running it again cannot help, so the
 * worker fails the job at once instead of retrying.
 */
export class SandboxInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxInputError";
  }
}

/** The host cannot provide what the worker was started with (bwrap, cgroups, a job user). */
export class SandboxSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxSetupError";
  }
}
