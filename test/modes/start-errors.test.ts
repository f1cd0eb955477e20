// How `dev`, `router` and `worker` fail to start: one line in the user's words, with the exit
// code of its cause, said the same way by every mode that meets it (src/modes/start-errors.ts).
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode, UserError } from "../../src/common/errors.ts";
import { main } from "../../src/cli.ts";
import { runWorker, workerCommand } from "../../src/modes/worker.ts";
import { setUpWorkerSandbox } from "../../src/modes/worker-setup.ts";
import { stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

const blockers: Server[] = [];
afterEach(async () => {
  for (const blocker of blockers.splice(0)) blocker.close();
  await stopAll();
});

/** A port on 127.0.0.1 that something else holds. */
async function takenPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  return (blocker.address() as AddressInfo).port;
}

/** A URL where no server listens: a port that was free a moment ago. */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** dev's options that keep its sandbox set-up small and its files in a temp dir. */
function devQuietly(): string[] {
  return ["--in-memory", "--sandbox", "none", "--max-disk", "off", "--work-dir", tempDir()];
}

describe("a port already in use", () => {
  it("dev says so in the words server uses, exit code 2", async () => {
    const port = await takenPort();
    const dev = captureContext();
    expect(await main(["dev", "--port", String(port), ...devQuietly()], dev)).toBe(2);
    const server = captureContext();
    expect(await main(["server", "--in-memory", "--port", String(port)], server)).toBe(2);
    expect(dev.err()).toBe(server.err());
    expect(dev.err()).toContain(`port ${port} on 127.0.0.1 is in use`);
    expect(dev.err()).toContain("pick another with --port");
  });
});

describe("dev --groups", () => {
  // Two workers of one group in one process share a pid: the second's presence lease was
  // refused, and dev ended in "internal error: could not register presence", exit 1.
  it("refuses a group named twice before anything starts: its two workers would share a pid", async () => {
    const controller = new AbortController();
    // Stopped from the start: a dev that started anyway would stop at once, exit 0.
    controller.abort("SIGINT");
    const ctx = captureContext({}, controller.signal);
    expect(
      await main(["dev", "--groups", "cpu,gpu,cpu", "--port", "0", ...devQuietly()], ctx),
    ).toBe(2);
    expect(ctx.err()).toContain("--groups cpu,gpu,cpu names cpu twice: name each group once");
    expect(ctx.out()).not.toContain("ready");
  });
});

describe("router", () => {
  it("says a bad --lease at once, rather than after waiting for its server", async () => {
    // The deadline is only met by a router that waits first: it then stops, exit 3.
    const ctx = captureContext({}, AbortSignal.timeout(5_000));
    const code = await main(["router", "--url", await deadUrl(), "--lease", "soon"], ctx);
    expect(ctx.err()).toContain('--lease "soon" is not a duration');
    expect(ctx.err()).not.toContain("waiting for the server");
    expect(code).toBe(ExitCode.usage);
  });
});

describe("worker", () => {
  it("keeps the words and the exit code of a start failure that already says what to do", async () => {
    const tooLarge = new UserError(
      "the Resonate server at http://x refused the request as too large (HTTP 413)",
      ExitCode.usage,
    );
    const args = await argsOf(workerCommand, [
      "--group",
      "g",
      "--sandbox",
      "none",
      "--max-disk",
      "off",
      "--work-dir",
      tempDir(),
    ]);
    const run = runWorker(args, captureContext(), {
      // Resolves: the failure comes from the start itself.
      awaitServer: () => Promise.resolve(),
      setUpSandbox: setUpWorkerSandbox,
      startWorker: () => Promise.reject(tooLarge),
    });
    await expect(run).rejects.toBe(tooLarge);
  });

  it("reads other start failures as a server it cannot join, exit code 3", async () => {
    const args = await argsOf(workerCommand, [
      "--group",
      "g",
      "--url",
      "http://127.0.0.1:9",
      "--sandbox",
      "none",
      "--max-disk",
      "off",
      "--work-dir",
      tempDir(),
    ]);
    const run = runWorker(args, captureContext(), {
      awaitServer: () => Promise.resolve(),
      setUpSandbox: setUpWorkerSandbox,
      startWorker: () => Promise.reject(new Error("poll stream closed")),
    });
    await expect(run).rejects.toMatchObject({
      exitCode: ExitCode.unreachable,
      message: "worker could not start against http://127.0.0.1:9: poll stream closed",
    });
  });
});
