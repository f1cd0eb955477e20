// Puts the embedded server together: store -> engine -> poll registry -> HTTP.
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Authenticator } from "./auth.ts";
import { Engine } from "./engine.ts";
import { createHttpServer } from "./http.ts";
import { PollRegistry } from "./poll-registry.ts";
import { SqliteStore } from "./store.ts";

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
  clock?: () => number;
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

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const clock = options.clock ?? Date.now;
  let databasePath = ":memory:";
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    databasePath = join(options.dataDir, "modulate.db");
  }
  const store = new SqliteStore({
    path: databasePath,
    sync: options.sync ?? "full",
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const registry = new PollRegistry({
    clock,
    // Work addressed to a group while it had no member (or while the server was down) is
    // in the store as pending tasks: offer it to the member that just arrived.
    onGroupJoined: (group) => {
      for (const task of engine.pendingTasksOfGroup(group, REOFFER_LIMIT)) {
        registry.send(task.address, {
          kind: "execute",
          head: {},
          data: { task: { id: task.id, version: task.version } },
        });
      }
    },
  });
  const engine = new Engine({
    store,
    clock,
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    onMessages: (messages) => registry.sendAll(messages),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const http = createHttpServer({
    engine,
    registry,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    databasePath,
    async close() {
      engine.stop();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        // Poll streams never end on their own.
        http.closeAllConnections();
      });
      await store.close();
    },
  };
}
