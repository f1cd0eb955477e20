// What a worker asks of the server per job (issue 17): whether its job was canceled before the
// run is read from the task's acquire answer, so no job's execute promise is read on its own
// (promise.get). Read from the worker's MODULATE_TRACE lines, with real processes.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startRouterProcess } from "../helpers/cluster.ts";
import { MODULATE, start, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(async () => {
  await stopAll();
});

/** The requests a traced worker sent, in order: `KIND SUBJECT`. */
function workerRequests(traceFile: string): string[] {
  return readFileSync(traceFile, "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => fields[2] === "worker" && fields[4] === "send")
    .map((fields) => fields.slice(5).join(" ").trim());
}

describe("a worker's requests per job", () => {
  it("reads no job's execute promise: the acquire answer says whether it was canceled", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const traceFile = join(tempDir(), "trace.log");
    const worker = start(
      MODULATE,
      [
        "worker",
        ...["--url", server.url, "--group", "g", "--work-dir", tempDir()],
        ...["--python", "/usr/bin/python3"],
      ],
      { MODULATE_TRACE: traceFile },
    );
    await worker.waitFor(/modulate worker \S+ ready/, 60_000);
    const scripts = [1, 2, 3].map((n) => {
      const file = join(tempDir(), `job${n}.py`);
      writeFileSync(file, `print(${n})\n`);
      return file;
    });
    for (const script of scripts) {
      const submit = start(MODULATE, ["submit", script, "--group", "g", "--url", server.url]);
      expect(await submit.exited()).toBe(0);
    }
    const requests = workerRequests(traceFile);
    const acquires = requests.filter((r) => r.startsWith("task.acquire"));
    expect(acquires.length).toBeGreaterThanOrEqual(3);
    const reads = requests.filter((r) => /^promise\.get \S+\.execute$/.test(r));
    expect(reads, requests.join("\n")).toEqual([]);
  });
});
