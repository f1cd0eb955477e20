// `--log-format json` on real server, router and worker processes: every line each prints is
// one JSON object with time, level, component and event, and a job's lines carry its id
// (issue 18, item 6). `text`, the default, is what the other end-to-end tests read.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  MODULATE,
  start as startProcess,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

afterEach(stopAll);

interface LogLine {
  time: string;
  level: string;
  component: string;
  event: string;
  msg: string;
  jobId?: string;
  [field: string]: unknown;
}

function lines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`a line that is not JSON: ${line}`);
      }
    });
}

describe("process logs", () => {
  it("server, router and worker print one JSON object a line, with the job's id", async () => {
    const json = ["--log-format", "json"];
    const server = await startServerProcess(["--in-memory", ...json]);
    const router = await startRouterProcess(server.url, json);
    const worker = await startWorkerProcess(server.url, "cpu", tempDir(), json);
    const run = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "exit-7.py"),
      "--group",
      "cpu",
      "--json",
    );
    expect(run.code).toBe(7);
    const jobId = run.record.id ?? "";
    expect(jobId).not.toBe("");

    const done = await eventually(
      () => lines(worker.output()).find((l) => l.event === "job.done" && l.jobId === jobId),
      "the worker's job.done line",
    );
    expect(done).toMatchObject({
      level: "info",
      component: "worker",
      state: "failed",
      exitCode: 7,
    });
    expect(Number.isNaN(Date.parse(done.time))).toBe(false);
    const start = lines(worker.output()).find((l) => l.event === "job.start");
    expect(start).toMatchObject({ jobId, attempt: 1, msg: `start ${jobId} attempt 1` });
    expect(lines(worker.output()).some((l) => l.event === "worker.ready")).toBe(true);

    const routed = await eventually(
      () => lines(router.output()).find((l) => l.event === "job.routed"),
      "the router's job.routed line",
    );
    expect(routed).toMatchObject({ component: "router", jobId, group: "cpu" });
    const listening = lines(server.output()).find((l) => l.event === "server.listening");
    expect(listening).toMatchObject({ component: "server", url: server.url });
    // A job nobody takes ends at its queue timeout, and the router that ends it says so.
    const stranded = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--group",
      "nobody",
      "--queue-timeout",
      "1s",
      "--detach",
    );
    const strandedId = stranded.out.trim().split("\n").pop() ?? "";
    const timedOut = await eventually(
      () => lines(router.output()).find((l) => l.event === "job.queue_timeout"),
      "the router's job.queue_timeout line",
    );
    expect(timedOut).toMatchObject({ jobId: strandedId, outcome: "timed_out" });
  });

  it("modulate dev prints its own lines as JSON objects too, and stops cleanly", async () => {
    const dev = startProcess(MODULATE, [
      "dev",
      "--in-memory",
      "--port",
      "0",
      "--no-ui",
      "--log-format",
      "json",
      "--work-dir",
      tempDir(),
    ]);
    await dev.waitFor(/"event":"dev\.hint"/);
    const printed = lines(dev.output());
    expect(printed.every((l) => l.component === "dev" && l.level === "info")).toBe(true);
    const ready = printed.find((l) => l.event === "dev.ready");
    expect(ready).toMatchObject({ groups: "cpu", store: null });
    expect(String(ready?.["url"])).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printed.some((l) => l.event === "dev.sandbox" && l.msg.startsWith("sandbox: "))).toBe(
      true,
    );
    dev.kill("SIGTERM");
    expect(await dev.exited()).toBe(0);
    expect(() => lines(dev.output())).not.toThrow();
  });

  it("refuses an unknown --log-format with one line and exit 2", async () => {
    const run = await runCli("http://127.0.0.1:1", "router", "--log-format", "xml");
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/log-format/);
  });
});
