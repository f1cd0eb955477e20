// `--log-format text|json`, which the server, router and worker take, and the logger it picks.
import { createLogger, LOG_FORMATS, type ProcessLogger } from "../common/log.ts";
import type { CliContext } from "./command.ts";

export const logFormatOptions = {
  "log-format": {
    choices: LOG_FORMATS,
    default: "text" as const,
    describe: "Process log lines: text (sentences) or json (one object a line, with jobId)",
  },
} as const;

export function loggerFor(
  format: (typeof LOG_FORMATS)[number],
  component: string,
  ctx: CliContext,
): ProcessLogger {
  return createLogger({ format, component, stdout: ctx.stdout, stderr: ctx.stderr });
}
