// A sweep's jobs ask what one job would: `submit a.py b.py --gpus 2 --retries 1 --interpreter X`
// writes those into every job's spec (they were dropped), and `--after`, which a sweep does not
// take, is refused before anything is written. runSubmit against a server in this process.
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/common/errors.ts";
import { openModulateClient } from "../../src/modes/deps.ts";
import { startEmbeddedServer } from "../../src/modes/embedded-server.ts";
import { runSubmit, submitCommand, type SubmitDeps } from "../../src/modes/submit.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";
import type { RunningServer } from "../../src/server/server.ts";
import { JOB_FIXTURES } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

async function embeddedServer(): Promise<RunningServer> {
  const server = await startEmbeddedServer({ host: "127.0.0.1", port: 0 });
  stoppers.push(() => server.close());
  return server;
}

const deps: SubmitDeps = {
  openClient: openModulateClient,
  stdin: Readable.from([]),
  clock: () => Date.now(),
};

const scripts = { script: join(JOB_FIXTURES, "quick.py") };
const more = [join(JOB_FIXTURES, "exit-7.py")];

describe("a sweep's jobs' asks", () => {
  it("writes --gpus, --interpreter, --retries and --retry-timeouts into every job of the sweep", async () => {
    const server = await embeddedServer();
    const args = await argsOf(
      submitCommand,
      [
        "--url",
        server.url,
        "--id",
        "asks",
        "--gpus",
        "2",
        "--interpreter",
        "torch",
        "--retries",
        "1",
        "--retry-timeouts",
        "--max-running",
        "1",
      ],
      scripts,
    );
    expect(await runSubmit({ ...args, more }, captureContext(), deps)).toBe(0);
    const client = new ModulateClient({ url: server.url });
    stoppers.push(() => client.close());
    for (const id of ["asks.1", "asks.2"]) {
      const { spec } = await client.getJob(id);
      expect(spec).toMatchObject({
        gpus: 2,
        interpreter: "torch",
        retries: 1,
        retryTimedOut: true,
      });
      expect(spec.sweep).toMatchObject({ id: "asks", maxRunning: 1 });
    }
  });

  it("refuses --after for a sweep, naming what to do, and writes nothing", async () => {
    const server = await embeddedServer();
    const args = await argsOf(
      submitCommand,
      ["--url", server.url, "--id", "later", "--after", "job-x"],
      scripts,
    );
    const refused = runSubmit({ ...args, more }, captureContext(), deps);
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(/--after is not taken by a sweep: submit the sweep once/);
    const client = new ModulateClient({ url: server.url });
    stoppers.push(() => client.close());
    expect(await client.getSweep("later")).toBeUndefined();
  });
});
