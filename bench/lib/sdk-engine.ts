// The SDK's in-memory reference server behind modulate's HTTP layer: the ceiling, i.e. the
// same HTTP parsing, validation and JSON, with no durability at all. Only bench code loads
// the SDK; the server itself never does.
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
// Not in the SDK's exports map: imported by file path, as test/server/differential.test.ts does.
import { Server } from "../../node_modules/@resonatehq/sdk/dist/src/network/local.js";
import type { RequestEngine } from "../../src/server/engine.ts";
import { inThreadApi } from "../../src/server/api-request.ts";
import { createHttpServer } from "../../src/server/http.ts";
import { PollRegistry } from "../../src/server/poll-registry.ts";
import type { Reply, Request } from "../../src/server/protocol.ts";
import type { BenchServer } from "./bench-server.ts";
import { preloadRequest, type PreloadReport } from "./preload.ts";

/** Preload applies this many creates to a scratch server before merging it in. */
const PRELOAD_CHUNK = 1_000;

export class SdkEngine implements RequestEngine {
  readonly server = new Server();

  submit(request: Request): Promise<Reply> {
    const { response } = this.server.apply(Date.now(), request);
    // Delivered, as the durable engine hands its messages to the poll registry (which drops
    // them with no poller connected); kept, each later execute message would scan them all.
    this.server.outgoing = [];
    return Promise.resolve({ status: response.head.status, data: response.data });
  }

  isReady(): boolean {
    return true;
  }

  /**
   * Applies the creates to small scratch servers through the SDK's own `apply`, then moves
   * their promises, tasks and timeouts into this one. Applied here directly, each insert scans
   * the timeout arrays for a duplicate (O(n)), and 100,000 take over a minute; the ids are
   * fresh, so skipping that scan leaves exactly the state `apply` would have left.
   */
  preload(count: number): PreloadReport {
    const startedAt = performance.now();
    const now = Date.now();
    for (let first = 0; first < count; first += PRELOAD_CHUNK) {
      const scratch = new Server();
      for (let i = first; i < Math.min(count, first + PRELOAD_CHUNK); i++) {
        const { response } = scratch.apply(now, preloadRequest(i, now));
        if (response.head.status !== 200) {
          throw new Error(`preload create ${i} answered ${response.head.status}, expected 200`);
        }
      }
      for (const [id, promise] of scratch.promises) {
        if (this.server.promises.has(id)) throw new Error(`preload id ${id} is not fresh`);
        this.server.promises.set(id, promise);
      }
      for (const [id, task] of scratch.tasks) this.server.tasks.set(id, task);
      this.server.pTimeouts.push(...scratch.pTimeouts);
      this.server.tTimeouts.push(...scratch.tTimeouts);
    }
    let pendingPromises = 0;
    for (const promise of this.server.promises.values()) {
      if (promise.state === "pending") pendingPromises++;
    }
    let pendingTasks = 0;
    for (const task of this.server.tasks.values()) {
      if (task.state === "pending") pendingTasks++;
    }
    return {
      method: `through the SDK's own apply() on scratch servers of ${PRELOAD_CHUNK}, merged in`,
      durationMs: performance.now() - startedAt,
      pendingPromises,
      pendingTasks,
      timers: this.server.pTimeouts.length + this.server.tTimeouts.length,
    };
  }
}

export async function startSdk(): Promise<BenchServer> {
  const engine = new SdkEngine();
  const registry = new PollRegistry({ clock: Date.now, onGroupJoined: () => {} });
  const http = createHttpServer({ api: inThreadApi(engine), registry });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    preload: (count) => engine.preload(count),
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
