// Worker presence through a real server: a live lease lists the worker; a lease that lapsed
// while the server was down is taken again, so the worker is listed again.
import { afterEach, describe, expect, it } from "vitest";
import { listLiveWorkers, PresenceLease } from "../../src/orchestration/presence.ts";
import { requestSender } from "../../src/orchestration/wire/wire.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freePort } from "../helpers/cluster.ts";
import { eventually, tempDir, stopAll } from "../helpers/processes.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopAll();
});

describe("worker presence", () => {
  it("lists a live worker, and lists it again after a server restart outlasted its lease", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const send = requestSender({ url });
    const first: RunningServer = await startServer({ host: "127.0.0.1", port, dataDir });
    // Long enough that a busy machine (the whole suite on two cores) does not let it lapse
    // between start and the first listing; the restart below skips well past it.
    const lease = new PresenceLease({
      send,
      group: "g",
      pid: "worker-1",
      slots: 2,
      leaseMs: 1_500,
    });
    await lease.start();
    cleanups.push(() => lease.stop());
    expect((await listLiveWorkers(send)).map((w) => [w.pid, w.slots, w.busy])).toEqual([
      ["worker-1", 2, 0],
    ]);

    await first.close();
    // The restarted server's clock is 10 s on: the old lease has lapsed for it.
    const second = await startServer({
      host: "127.0.0.1",
      port,
      dataDir,
      clock: () => Date.now() + 10_000,
    });
    cleanups.push(() => second.close());
    const listed = await eventually(async () => {
      const workers = await listLiveWorkers(send).catch(() => []);
      return workers.some((w) => w.pid === "worker-1") ? workers : undefined;
    }, "the worker to be listed again");
    expect(listed.filter((w) => w.pid === "worker-1")).toHaveLength(1);
  });
});
