// Puts the embedded server together: store -> engine (on a thread of its own) -> poll
// registry -> HTTP.
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { inThreadApi, type ApiHandler } from "./api-request.ts";
import type { Authenticator } from "./auth.ts";
import { Engine } from "./engine.ts";
import type { PendingTask } from "./engine-messages.ts";
import { EngineThread } from "./engine-thread-handle.ts";
import { createHttpServer } from "./http.ts";
import { PollRegistry } from "./poll-registry.ts";
import type { Outgoing } from "./protocol.ts";
import { ServerMetrics } from "./metrics.ts";
import { SqliteStore, type StoreStats } from "./store.ts";

export { IncompatibleStore } from "./store.ts";

export interface ServerOptions {
  host: string;
  /** 0 picks a free port; `url` says which. */
  port: number;
  /** Directory for the database; undefined keeps everything in memory (tests, trials). */
  dataDir?: string;
  auth?: Authenticator;
  retainMs?: number;
  maxBodyBytes?: number;
  /** Longest a `POST /` body may take to arrive; past it, 408. Default 30 s. */
  bodyTimeoutMs?: number;
  sync?: "full" | "normal";
  /**
   * The server's clock, for tests that move time by hand. A clock cannot cross to another
   * thread, so with one the engine runs on this thread, as it did before it had its own.
   */
  clock?: () => number;
  /** `GET /metrics` without a token even when `auth` is on. Default false. */
  metricsPublic?: boolean;
  onError?: (error: unknown) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly databasePath: string;
  close(): Promise<void>;
}

/** Pending tasks offered to a group's first member at once; the retry timer sends the rest. */
const REOFFER_LIMIT = 1_000;

/** The engine as the server's front sees it, wherever it runs. */
interface EngineCore {
  api: ApiHandler;
  pendingTasksOfGroup(group: string, limit: number): Promise<PendingTask[]>;
  storeStats(): Promise<StoreStats | undefined>;
  close(): Promise<void>;
}

interface CoreOptions {
  databasePath: string;
  options: ServerOptions;
  onMessages: (messages: Outgoing[]) => void;
}

async function engineOnItsThread({
  databasePath,
  options,
  onMessages,
}: CoreOptions): Promise<EngineCore> {
  const thread = await EngineThread.start({
    databasePath,
    sync: options.sync ?? "full",
    auth: options.auth?.config ?? { kind: "none" },
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    onMessages,
    onError: options.onError ?? (() => {}),
  });
  return {
    api: thread,
    pendingTasksOfGroup: (group, limit) => thread.pendingTasksOfGroup(group, limit),
    storeStats: () => thread.storeStats(),
    close: () => thread.stop(),
  };
}

function engineOnThisThread(
  { databasePath, options, onMessages }: CoreOptions,
  clock: () => number,
): EngineCore {
  const store = new SqliteStore({
    path: databasePath,
    sync: options.sync ?? "full",
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const engine = new Engine({
    store,
    clock,
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    onMessages,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    api: inThreadApi(engine, options.auth),
    pendingTasksOfGroup: (group, limit) =>
      Promise.resolve(engine.pendingTasksOfGroup(group, limit)),
    storeStats: () => Promise.resolve(store.stats()),
    async close() {
      engine.stop();
      await store.close();
    },
  };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const clock = options.clock ?? Date.now;
  let databasePath = ":memory:";
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    databasePath = join(options.dataDir, "modulate.db");
  }
  const onError = options.onError ?? (() => {});
  const registry = new PollRegistry({
    clock,
    // Work addressed to a group while it had no member (or while the server was down) is
    // in the store as pending tasks: offer it to the member that just arrived.
    onGroupJoined: (group) => {
      core.pendingTasksOfGroup(group, REOFFER_LIMIT).then((tasks) => {
        for (const task of tasks) {
          registry.send(task.address, {
            kind: "execute",
            head: {},
            data: { task: { id: task.id, version: task.version } },
          });
        }
      }, onError);
    },
  });
  const coreOptions: CoreOptions = {
    databasePath,
    options,
    onMessages: (messages) => registry.sendAll(messages),
  };
  const core =
    options.clock === undefined
      ? await engineOnItsThread(coreOptions)
      : engineOnThisThread(coreOptions, options.clock);
  const metrics = new ServerMetrics({ storeStats: () => core.storeStats(), databasePath });
  const http = createHttpServer({
    api: core.api,
    registry,
    metrics,
    ...(options.metricsPublic ? { metricsPublic: true } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port, options.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // The engine's thread would keep the process alive behind a port it could not take.
    await core.close();
    throw error;
  }
  const port = (http.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    databasePath,
    async close() {
      // Queued requests are answered before the engine stops; then the sockets close.
      await core.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        // Poll streams never end on their own.
        http.closeAllConnections();
      });
    },
  };
}
