// The process logger: text keeps the lines the modes always printed, json wraps each in one
// object with the event's fields, on the same stream.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/common/log.ts";

function capture(format: "text" | "json") {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLogger({
    format,
    component: "worker",
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    clock: () => Date.parse("2026-12-03T01:00:00Z"),
  });
  return { log, out, err };
}

describe("process logger", () => {
  it("prints the sentence alone in text, info on stdout and warnings on stderr", () => {
    const { log, out, err } = capture("text");
    log.info("job.start", "start job-1 attempt 1", { jobId: "job-1", attempt: 1 });
    log.warn("server.waiting", "modulate worker: waiting for the server (refused)");
    expect(out).toEqual(["start job-1 attempt 1\n"]);
    expect(err).toEqual(["modulate worker: waiting for the server (refused)\n"]);
  });

  it("prints one JSON object a line in json, leaving out fields that are undefined", () => {
    const { log, out, err } = capture("json");
    log.info("job.answer", "answer t: note", { jobId: undefined, taskId: "t" });
    log.error("server.error", "modulate server: disk full", { error: "disk full" });
    expect(out.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        time: "2026-12-03T01:00:00.000Z",
        level: "info",
        component: "worker",
        event: "job.answer",
        msg: "answer t: note",
        taskId: "t",
      },
    ]);
    expect(JSON.parse(err[0] ?? "")).toMatchObject({ level: "error", error: "disk full" });
    expect(out[0]?.endsWith("}\n")).toBe(true);
  });
});
