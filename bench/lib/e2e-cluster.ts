// A modulate cluster of real processes, started the way a user would start it: `bin/modulate
// server`, one `router`, and `worker`s with their defaults (sandbox auto, lease 8 s) except
// --python and a temporary --work-dir.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import { firstLine, startProcess, type BenchProcess } from "./e2e-processes.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MODULATE = join(ROOT, "bin", "modulate");
export const NODE = join(ROOT, "node_modules", "node", "bin", "node");
export const FIXTURES = join(ROOT, "bench", "fixtures");

/** Start-up of a process that probes bwrap and cgroups on a busy two-core machine. */
const START_TIMEOUT_MS = 30_000;

export type Storage = "durable" | "in-memory";

export interface ServerHandle {
  readonly process: BenchProcess;
  readonly url: string;
  readonly storage: Storage;
}

export interface WorkerHandle {
  readonly process: BenchProcess;
  /** The worker's own id (`group-host-pid`), as results name it. */
  readonly workerPid: string;
  /** What the worker said about its sandbox before it was ready: mode, cgroups, python. */
  readonly notes: readonly string[];
}

/**
 * `durable` keeps its SQLite store in `dataDir` with the default `--sync full`. `modulate`: the
 * binary to start (bench:ops starts a copy of its own); by default BENCH_SERVER_BIN where it
 * is set, to run another build's server beside this checkout's router and workers (two builds
 * compared in one sweep), else this checkout's.
 */
export async function startServer(
  storage: Storage,
  dataDir: string,
  extra: readonly string[] = [],
  modulate: string = process.env["BENCH_SERVER_BIN"] ?? MODULATE,
): Promise<ServerHandle> {
  const where = storage === "durable" ? ["--data", dataDir] : ["--in-memory"];
  const p = startProcess("server", modulate, ["server", "--port", "0", ...where, ...extra]);
  const { match } = await firstLine([p], /listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
  return { process: p, url: match[1] ?? "", storage };
}

export async function startRouter(url: string, modulate: string = MODULATE): Promise<BenchProcess> {
  const p = startProcess("router", modulate, ["router", "--url", url]);
  await firstLine([p], /modulate router \S+ ready/, START_TIMEOUT_MS);
  return p;
}

export interface WorkerOptions {
  readonly url: string;
  readonly group: string;
  readonly workDir: string;
  readonly python: string;
  readonly slots: number;
  readonly name: string;
  /** `--sandbox`; left out, the worker's default (auto) decides, as users get it. */
  readonly sandbox?: string;
  /** `--prefetch`; left out, the worker's default. */
  readonly prefetch?: number;
  /** The binary to start; bin/modulate unless told. */
  readonly modulate?: string;
  /** false: `--no-warm-python` (a python started per job); left out, the worker's default. */
  readonly warmPython?: boolean;
}

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const p = startProcess(options.name, options.modulate ?? MODULATE, [
    "worker",
    "--url",
    options.url,
    "--group",
    options.group,
    "--work-dir",
    options.workDir,
    "--python",
    options.python,
    "--slots",
    String(options.slots),
    ...(options.sandbox === undefined ? [] : ["--sandbox", options.sandbox]),
    ...(options.prefetch === undefined ? [] : ["--prefetch", String(options.prefetch)]),
    ...(options.warmPython === false ? ["--no-warm-python"] : []),
  ]);
  const { match } = await firstLine([p], /modulate worker (\S+) ready/, START_TIMEOUT_MS);
  const lines = p.lines();
  const readyAt = lines.findIndex((line) => line.includes(" ready: "));
  return { process: p, workerPid: match[1] ?? "", notes: lines.slice(0, readyAt) };
}

/** The sandbox mode a worker printed at start-up ("sandbox: bwrap"), or "unknown". */
export function sandboxMode(worker: WorkerHandle): string {
  const line = worker.notes.find((note) => note.startsWith("sandbox: "));
  return line?.slice("sandbox: ".length) ?? "unknown";
}

/**
 * The interpreter the worker runs .py jobs with. It prints the one it found on PATH
 * ("python3: ...") and then, when --python overrides it, "python: PATH (--python)": the last
 * such note is the one in use.
 */
export function workerPython(worker: WorkerHandle): string {
  const found = worker.notes.flatMap((note) => /^python3?: (\S+)/.exec(note)?.[1] ?? []);
  const inUse = found[found.length - 1];
  if (!inUse) throw new Error(`worker printed no python: ${worker.notes.join(" | ")}`);
  return inUse;
}

export interface BenchCluster {
  readonly server: ServerHandle;
  readonly router: BenchProcess;
  /** The two live workers of the group; phase 3 replaces the ones it kills. */
  readonly workers: [WorkerHandle, WorkerHandle];
  /** Starts one more worker of the group, as the first two were started. */
  newWorker(): Promise<WorkerHandle>;
  /** The processes whose CPU the bench reads, by name, the bench itself included. */
  cpuPids(): Map<string, number | "self">;
}

export async function startCluster(
  storage: Storage,
  root: string,
  worker: Omit<WorkerOptions, "url" | "workDir" | "name">,
): Promise<BenchCluster> {
  const server = await startServer(storage, join(root, "data"));
  const router = await startRouter(server.url);
  let started = 0;
  const newWorker = (): Promise<WorkerHandle> => {
    started += 1;
    const name = `worker-${started}`;
    return startWorker({ ...worker, url: server.url, workDir: join(root, name), name });
  };
  const workers: [WorkerHandle, WorkerHandle] = [await newWorker(), await newWorker()];
  return {
    server,
    router,
    workers,
    newWorker,
    cpuPids: () =>
      new Map<string, number | "self">([
        ["server", server.process.pid],
        ["router", router.pid],
        ...workers.map((w): [string, number] => [w.process.name, w.process.pid]),
        ["bench (client)", "self"],
      ]),
  };
}

/** A submission of a bench fixture, shaped like `submit` builds one. */
export function fixtureSpec(group: string, script: string, mode: JobSpec["mode"]): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group,
    script: { name: script, content: readFileSync(join(FIXTURES, script), "utf8") },
    args: [],
    timeoutMs: 60_000,
    mode,
    submittedAt: now,
  };
}
