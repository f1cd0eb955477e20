// What a waiting `submit` asks of the server (issue 17): its job's promise first, no probe of
// the server's generation (what it reads is named alike under every one), and its wait for the
// result one listener registration on the execute promise where the router has routed the job,
// three at most where it has not yet. Read from the CLI's own MODULATE_TRACE lines, with real
// processes.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startRouterProcess } from "../helpers/cluster.ts";
import { MODULATE, start, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(async () => {
  await stopAll();
});

/** A server, a router and one worker of group g; the server's URL. */
async function cluster(): Promise<string> {
  const server = await startServerProcess();
  await startRouterProcess(server.url);
  const worker = start(MODULATE, [
    "worker",
    ...["--url", server.url, "--group", "g", "--work-dir", tempDir()],
    ...["--python", "/usr/bin/python3"],
  ]);
  await worker.waitFor(/modulate worker \S+ ready/, 60_000);
  return server.url;
}

/** The requests a traced process sent, in order: `KIND SUBJECT`. */
function requestsIn(traceFile: string): string[] {
  return readFileSync(traceFile, "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => fields[2] === "submit" && fields[4] === "send")
    .map((fields) => fields.slice(5).join(" ").trim());
}

describe("a waiting submit's requests", () => {
  it("creates the job first, probes nothing, and waits with at most three registrations", async () => {
    const url = await cluster();
    const scriptFile = join(tempDir(), "one.py");
    writeFileSync(scriptFile, "print(1)\n");
    const traceFile = join(tempDir(), "trace.log");
    const submit = start(MODULATE, ["submit", scriptFile, "--group", "g", "--url", url], {
      MODULATE_TRACE: traceFile,
    });
    let stdout = "";
    submit.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    expect(await submit.exited()).toBe(0);
    // Printed once: from the record, or live, never both.
    expect(stdout).toBe("1\n");

    const requests = requestsIn(traceFile);
    const id = /^promise\.create (job-\S+)$/.exec(requests[0] ?? "")?.[1];
    expect(id, `first request: ${requests[0]}`).toBeDefined();
    expect(requests.filter((r) => r.startsWith("promise.register_callback"))).toEqual([]);
    const registrations = requests.filter((r) => r.startsWith("promise.register_listener"));
    expect(registrations[0]).toBe(`promise.register_listener ${id}.execute`);
    expect(registrations.length).toBeLessThanOrEqual(3);
  });
});
