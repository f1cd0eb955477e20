// Where a job's time goes, phase by phase, across processes (issue 17): with MODULATE_TRACE set
// to a file, the CLI and the router append one line per step of a submission to it, each with
// the wall clock to the microsecond, so one file read after a run puts every process's steps on
// one time line (bench/submit-phases.ts reads it). Unset, as by default, nothing is written and
// a mark costs one comparison.

/** The file traced steps go to; read once, at start. */
const TRACE_FILE = process.env["MODULATE_TRACE"] ?? "";

/** True when this process traces its steps (MODULATE_TRACE names a file). */
export const tracing = TRACE_FILE !== "";

/** Which part of modulate this process is: its mode (submit, router, worker, server). */
const component = process.argv[2] ?? "modulate";

/** Microseconds since the epoch, from the process's own monotonic clock. */
function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Appends `EPOCH_MS CPU_MS COMPONENT PID STEP [DETAIL]` to the trace file (CPU_MS: the
 * process's CPU time so far), where tracing is on. One
 * synchronous append a line: a traced run is slower by it, and it is never on by default.
 */
export function traceStep(step: string, detail = "", atEpochMs = nowEpochMs()): void {
  if (!tracing) return;
  const { user, system } = process.cpuUsage();
  const cpuMs = ((user + system) / 1000).toFixed(1);
  const line = `${atEpochMs.toFixed(3)} ${cpuMs} ${component} ${process.pid} ${step}${detail === "" ? "" : ` ${detail}`}\n`;
  try {
    process.getBuiltinModule("node:fs").appendFileSync(TRACE_FILE, line);
  } catch {
    // A trace that cannot be written must not change what the command does.
  }
}

/** What a protocol request or message is about, for its trace line: the promise or task id. */
export function traceSubject(data: unknown): string {
  if (typeof data !== "object" || data === null) return "";
  const fields = data as Record<string, unknown>;
  for (const key of ["id", "awaited", "promise", "task"]) {
    const value = fields[key];
    if (typeof value === "string") return value;
    if (typeof value === "object" && value !== null) {
      const id = (value as Record<string, unknown>)["id"];
      if (typeof id === "string") return id;
    }
  }
  return "";
}

if (tracing) {
  // The process's own start (Node's time origin) and its end, around whatever it traces.
  traceStep("start", "", performance.timeOrigin);
  process.once("exit", () => traceStep("exit"));
}
