// A whole cluster in this process: the embedded server on 127.0.0.1, a router, and one
// worker per group, all sharing one sandbox set-up. `dev` runs it; tests of the modes start
// it too, where a cluster of real processes (test/helpers/cluster.ts) is more than they need.
import { hostname } from "node:os";
import { processPid } from "../orchestration/jobs/names.ts";
import { DEFAULT_SUBMISSION_LIMITS } from "../orchestration/jobs/validate-submission.ts";
import { startEmbeddedServer, type StartServer } from "./embedded-server.ts";
import { setUpWorkerSandbox, type WorkerSandboxOptions } from "./worker-setup.ts";
import { ServerLimits } from "../orchestration/wire/server-limits.ts";
import { MODULATE_VERSION } from "./version.ts";

export interface LocalClusterOptions {
  /** One worker each; every name once (a worker's pid is made of its group). */
  readonly groups: readonly string[];
  /** Jobs each worker runs at once. */
  readonly slotsPerWorker: number;
  /** The server's port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Directory of the server's durable store; absent: in memory only. */
  readonly dataDir?: string;
  /** The workers' sandbox, decided once for all of them; its slots are counted here. */
  readonly sandbox: Omit<WorkerSandboxOptions, "slots">;
  readonly env: NodeJS.ProcessEnv;
  /** A router or worker silent this long loses its work to a peer. Default 8 s. */
  readonly leaseMs?: number;
  /** Default: the embedded server, its start failures in the user's words. */
  readonly startServer?: StartServer;
}

export interface LocalCluster {
  readonly url: string;
  /** The store's file, or ":memory:". */
  readonly databasePath: string;
  /** What the sandbox set-up chose, one line each, for the user to read. */
  readonly notes: readonly string[];
  readonly routerPid: string;
  /** Each group's worker, by its pid. */
  readonly workerPids: ReadonlyMap<string, string>;
  /** Stops workers, router and server, then lets the sandbox's areas go. */
  stop(): Promise<void>;
}

const DEFAULT_LEASE_MS = 8_000;
/** A job of `dev` may wait a day for its worker, as the router's default allows. */
const QUEUE_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const { config, notes, disk, cgroups } = await setUpWorkerSandbox(
    // The workers share one pool of areas: one for each job that can run at once.
    { ...options.sandbox, slots: options.groups.length * options.slotsPerWorker },
    options.env,
  );
  // Stopped in reverse: the areas last, once the workers have let them go.
  const stoppers: (() => Promise<void>)[] = [];
  if (disk) stoppers.push(() => disk.close());
  if (cgroups) stoppers.push(() => cgroups.close());
  const stop = async (): Promise<void> => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const [{ startRouter }, { startWorker }, { sandboxRunner }] = await Promise.all([
      import("../orchestration/router.ts"),
      import("../orchestration/worker.ts"),
      import("../orchestration/sandbox-runner.ts"),
    ]);
    const server = await (options.startServer ?? startEmbeddedServer)({
      host: "127.0.0.1",
      port: options.port,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
    stoppers.push(() => server.close());
    const connection = { url: server.url };
    const routerPid = processPid("router", hostname(), process.pid);
    const router = await startRouter({
      connection,
      routes: new Map(),
      limits: DEFAULT_SUBMISSION_LIMITS,
      queueTimeoutMs: QUEUE_TIMEOUT_MS,
      leaseMs,
      pid: routerPid,
    });
    stoppers.push(() => router.stop());
    const workerPids = new Map<string, string>();
    for (const group of options.groups) {
      const pid = processPid(group, hostname(), process.pid);
      const serverLimits = new ServerLimits();
      const worker = await startWorker({
        connection,
        group,
        slots: options.slotsPerWorker,
        leaseMs,
        pid,
        serverLimits,
        announcement: { gpus: [], sandbox: config.mode, version: MODULATE_VERSION },
        runner: sandboxRunner(config, { disks: disk?.pool, cgroups, serverLimits, connection }),
      });
      stoppers.push(() => worker.stop());
      workerPids.set(group, pid);
    }
    return {
      url: server.url,
      databasePath: server.databasePath,
      notes,
      routerPid,
      workerPids,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
