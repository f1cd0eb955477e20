// The process log of the long-running parts (server, router, worker): one line per event,
// as the plain sentence a person reads (`--log-format text`, the default, exactly the lines
// these modes always printed) or as one JSON object a log shipper reads (`--log-format json`),
// with the job's id in its own field where the event has one.

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogLevel = "info" | "warn" | "error";

/** Fields beside the message in JSON: `jobId` where the event concerns a job. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface ProcessLogger {
  /** Written to stdout. `event` names the kind of line (`job.start`), `text` is the sentence. */
  info(event: string, text: string, fields?: LogFields): void;
  /** Written to stderr. */
  warn(event: string, text: string, fields?: LogFields): void;
  /** Written to stderr. */
  error(event: string, text: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Which part of modulate writes: server, router, worker. */
  component: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Default `Date.now`. */
  clock?: () => number;
}

/** One JSON line: time, level, component, event and msg first, then the event's fields. */
export function jsonLogLine(
  time: number,
  level: LogLevel,
  component: string,
  event: string,
  text: string,
  fields: LogFields = {},
): string {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return `${JSON.stringify({
    time: new Date(time).toISOString(),
    level,
    component,
    event,
    msg: text,
    ...defined,
  })}\n`;
}

export function createLogger(options: LoggerOptions): ProcessLogger {
  const clock = options.clock ?? Date.now;
  const write =
    (level: LogLevel, stream: { write(text: string): unknown }) =>
    (event: string, text: string, fields?: LogFields): void => {
      stream.write(
        options.format === "json"
          ? jsonLogLine(clock(), level, options.component, event, text, fields)
          : `${text}\n`,
      );
    };
  return {
    info: write("info", options.stdout),
    warn: write("warn", options.stderr),
    error: write("error", options.stderr),
  };
}
