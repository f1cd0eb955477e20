// `npm run bench:sweep` (issue 17): a sweep of 500 trivial `print("ok")` scripts, submitted by
// the CLI in one `modulate submit a.py b.py ...`, on two slots (two workers of one slot each,
// their default sandbox), against real processes. Reports:
//   - submit time: the CLI's spawn to exit, all 500 jobs durable, beside `node -e 0`;
//   - completion rate: jobs per second from the submit's start to the last job's end, beside
//     the machine's limit for fresh sandboxed processes (cores / CPU time of one python start
//     plus one sandbox start, both measured here as bench:e2e measures them). Bar: >= 60%.
// Writes bench/results/sweep.json. Options: --jobs N, --in-memory, --python PATH, --out,
// --no-wait (measure without waiting for others' tests to end; the report says so), --prefetch N
// (the workers' --prefetch; 0 measures without it).
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModulateClient } from "../src/orchestration/client.ts";
import { unmountEverythingUnder } from "../src/sandbox/disk-areas.ts";
import {
  MODULATE,
  NODE,
  sandboxMode,
  startCluster,
  workerPython,
  type Storage,
} from "./lib/e2e-cluster.ts";
import { measureSpawns } from "./lib/e2e-latency.ts";
import { cpuBetween, snapshotCpu, type CpuSpent } from "./lib/e2e-cpu.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { waitForQuiet } from "./lib/e2e-quiet.ts";
import { measureSandboxStart } from "./lib/e2e-sandbox-floor.ts";
import { round1 } from "./lib/e2e-stats.ts";

const { values: options } = parseArgs({
  options: {
    jobs: { type: "string", default: "500" },
    "in-memory": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
    out: { type: "string", default: "bench/results/sweep.json" },
    /** Measure at once, without waiting for others' tests and benches to end (noisier). */
    "no-wait": { type: "boolean", default: false },
    /** The workers' --prefetch (their default when left out): 0 measures without it. */
    prefetch: { type: "string" },
  },
});
const quiet = async (phase: string): Promise<void> => {
  if (!options["no-wait"]) await waitForQuiet(phase, log);
};
const JOBS = Number(options.jobs);
const GROUP = "g";
const BWRAP = "/usr/bin/bwrap";
/** The bar: the sweep completes at this share of the machine's limit or more. */
const BAR_SHARE = 0.6;
const POLL_MS = 2_000;

function log(line: string): void {
  console.log(`[bench:sweep] ${line}`);
}

async function main(): Promise<void> {
  killStartedOnInterrupt();
  const cores = cpus().length;
  const storage: Storage = options["in-memory"] ? "in-memory" : "durable";
  const root = await mkdtemp(path.join(tmpdir(), "modulate-bench-sweep-"));
  await chmod(root, 0o711);
  let client: ModulateClient | undefined;
  try {
    await quiet("start-up");
    const cluster = await startCluster(storage, root, {
      group: GROUP,
      python: options.python,
      slots: 1,
      ...(options.prefetch === undefined ? {} : { prefetch: Number(options.prefetch) }),
    });
    const { server, workers } = cluster;
    const python = workerPython(workers[0]);
    const mode = sandboxMode(workers[0]);
    log(`server ${server.url} (${storage}), one router, 2 workers x 1 slot, sandbox ${mode}`);

    log("the machine's limit: CPU of one python start and one sandbox start");
    const pythonStart = await measureSpawns(python, ["-I", "-c", "pass"], 3, 100, "");
    const sandboxStart = mode === "bwrap" ? await measureSandboxStart(BWRAP, root, 100) : undefined;
    const nodeAlone = await measureSpawns(NODE, ["-e", "0"], 3, 20, "");
    const perJobMs = pythonStart.cpuPerRunMs + (sandboxStart?.cpuPerRunMs ?? 0);
    const limitJobsPerSec = round1((cores * 1000) / perJobMs);

    const scripts = path.join(root, "scripts");
    await mkdir(scripts);
    const files = await Promise.all(
      Array.from({ length: JOBS }, async (_, at) => {
        const file = path.join(scripts, `ok-${at + 1}.py`);
        await writeFile(file, 'print("ok")\n');
        return file;
      }),
    );

    log(`a sweep of ${JOBS} jobs, submitted by one CLI run`);
    await quiet("sweep");
    const loadBefore = loadavg()[0];
    const cpuBefore = snapshotCpu(cluster.cpuPids());
    const started = performance.now();
    const startedAt = Date.now();
    // Checked to print the sweep's id alone; timed around it, spawn to exit.
    await measureSpawns(
      MODULATE,
      ["submit", ...files, "--group", GROUP, "--id", "bench-sweep", "--url", server.url],
      0,
      1,
      "bench-sweep\n",
    );
    const submitMs = round1(performance.now() - started);
    log(`submitted in ${submitMs} ms`);
    const modulate = new ModulateClient({ url: server.url });
    client = modulate;
    for (;;) {
      const view = await modulate.getSweep("bench-sweep");
      if (view?.finished) {
        if (view.progress.done !== JOBS)
          throw new Error(`the sweep ended with ${JSON.stringify(view.progress)}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const cpu = cpuBetween(cpuBefore, snapshotCpu(cluster.cpuPids()));
    // The last job's end, from the records, rather than when the poll saw it.
    const listed = await modulate.list({ all: true, limit: JOBS + 10 });
    const lastEnd = Math.max(...listed.jobs.map((job) => job.finishedAt ?? 0));
    const completionMs = lastEnd - startedAt;
    const gaps = slotGaps(listed.jobs);
    const jobsPerSec = round1((JOBS * 1000) / completionMs);
    const share = round1((jobsPerSec / limitJobsPerSec) * 100);
    const report = {
      date: new Date().toISOString(),
      machine: { cores, model: cpus()[0]?.model ?? "unknown" },
      setup: {
        server: storage,
        workers: "2 x 1 slot",
        prefetch: options.prefetch === undefined ? "default" : Number(options.prefetch),
        sandboxMode: mode,
        python,
        jobs: JOBS,
      },
      /** The machine's 1-minute load average before and after the sweep: others' work too. */
      load: { before: round1(loadBefore ?? 0), after: round1(loadavg()[0] ?? 0), cores },
      waitedForQuiet: !options["no-wait"],
      submit: {
        cliMs: submitMs,
        nodeAloneMedianMs: nodeAlone.medianMs,
        ratioToNodeAlone: round1(submitMs / nodeAlone.medianMs),
        perJobMs: round1(submitMs / JOBS),
      },
      completion: { ms: completionMs, jobsPerSec },
      /**
       * A slot's idle time between one job's end and its worker's next job's start (from the
       * records): what dispatch costs between jobs, which prefetch takes out.
       */
      betweenJobsMs: gaps,
      /** CPU per job by process over the sweep (its submit's CLI is the bench's child). */
      cpuPerJob: perJob(cpu, JOBS),
      limit: {
        cores,
        cpuPerPythonStartMs: pythonStart.cpuPerRunMs,
        cpuPerSandboxStartMs: sandboxStart?.cpuPerRunMs ?? null,
        jobsPerSec: limitJobsPerSec,
      },
      bar: {
        wanted: `completes at >= ${BAR_SHARE * 100}% of the limit`,
        sharePercent: share,
        met: jobsPerSec >= BAR_SHARE * limitJobsPerSec,
      },
    };
    await mkdir(path.dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
    log(
      `submit of ${JOBS}: ${submitMs} ms (${report.submit.ratioToNodeAlone}x node -e 0 at ${nodeAlone.medianMs} ms)`,
    );
    log(
      `completion: ${jobsPerSec} jobs/s over ${completionMs} ms = ${share}% of the limit ${limitJobsPerSec} jobs/s (${cores} cores / (${pythonStart.cpuPerRunMs} ms python + ${sandboxStart?.cpuPerRunMs ?? 0} ms sandbox)): bar ${report.bar.met ? "met" : "NOT met"}`,
    );
    log(
      `a slot's gap between jobs: median ${gaps.median} ms, p90 ${gaps.p90} ms (${gaps.count} gaps)`,
    );
    log(
      `CPU per job: ${Object.entries(report.cpuPerJob.byProcessMs)
        .map(([name, ms]) => `${name} ${ms} ms`)
        .join(", ")}; ours ${report.cpuPerJob.oursMs} ms, others' ${report.cpuPerJob.othersMs} ms`,
    );
    console.log(`wrote ${options.out}`);
  } finally {
    await client?.close();
    await stopStarted();
    await unmountEverythingUnder(root).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Median and 90th percentile of the gaps between a worker's consecutive jobs, in ms. */
function slotGaps(
  jobs: readonly {
    worker: { pid: string } | null;
    startedAt: number | null;
    finishedAt: number | null;
  }[],
): { median: number; p90: number; count: number } {
  const byWorker = new Map<string, { startedAt: number; finishedAt: number }[]>();
  for (const job of jobs) {
    if (!job.worker || job.startedAt === null || job.finishedAt === null) continue;
    const runs = byWorker.get(job.worker.pid) ?? [];
    runs.push({ startedAt: job.startedAt, finishedAt: job.finishedAt });
    byWorker.set(job.worker.pid, runs);
  }
  const gaps: number[] = [];
  for (const runs of byWorker.values()) {
    runs.sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < runs.length; i++) {
      const before = runs[i - 1];
      const after = runs[i];
      if (before && after) gaps.push(after.startedAt - before.finishedAt);
    }
  }
  gaps.sort((a, b) => a - b);
  const at = (q: number): number =>
    gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? 0;
  return { median: at(0.5), p90: at(0.9), count: gaps.length };
}

/** CPU per job, by process (own and reaped children's together), and ours beside others'. */
function perJob(cpu: CpuSpent, jobs: number) {
  const byProcessMs: Record<string, number> = {};
  for (const [name, spent] of Object.entries(cpu.byProcess))
    byProcessMs[name] = round1((spent.ownMs + spent.childrenMs) / jobs);
  const ownOnlyMs: Record<string, number> = {};
  for (const [name, spent] of Object.entries(cpu.byProcess))
    ownOnlyMs[name] = round1(spent.ownMs / jobs);
  return {
    byProcessMs,
    /** The node processes' own CPU alone, without the sandboxes and pythons they reaped. */
    ownOnlyMs,
    oursMs: round1(cpu.oursMs / jobs),
    othersMs: round1(cpu.othersMs / jobs),
  };
}

await main();
