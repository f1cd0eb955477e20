// `npm run bench:binary`: the single executable (issue 18), built first by `npm run release`:
//   1. its size (bar: under 120 MiB);
//   2. `modulate --version` start-up beside `node -e 0` of the same Node, in alternating rounds
//      (bar: median at most twice node's);
//   3. resident memory of an idle server and an idle worker started from the file, 3 s after
//      each said it was ready, beside an idle `node -e "setInterval(()=>{},1000)"` of the same
//      Node (bar: the worker under 80 MB);
//   4. the worker's resident memory while it runs --jobs trivial jobs (default 10,000), read
//      every --sample-ms and at each tenth, and once idle after (bar: from 20% of the jobs to
//      the end, no growth beyond noise: under 8 MiB; the slope of the second half beside it).
// Options: --jobs, --script (a bench/fixtures job: e2e-trivial.py, or e2e-trivial.sh for
// faster jobs), --sandbox (the worker's; none for faster jobs), --slots, --python,
// --worker-node-options (NODE_OPTIONS of the worker alone), --runs (start-up samples of
// each), --sample-ms, --out. 10,000 jobs take 8-20 minutes on a shared two-core machine.
// Prints the figures and the bars, writes bench/results/binary.json.
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModulateClient } from "../src/orchestration/client.ts";
import { unmountEverythingUnder } from "../src/sandbox/disk-areas.ts";
import {
  fixtureSpec,
  NODE,
  ROOT,
  startRouter,
  startServer,
  startWorker,
} from "./lib/e2e-cluster.ts";
import { processCpu } from "./lib/e2e-cpu.ts";
import { measureSpawns, QUEUE_TIMEOUT_MS } from "./lib/e2e-latency.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { round1, summarize } from "./lib/e2e-stats.ts";
import { judgeGrowth, readMemory, type MemorySample } from "./lib/memory-growth.ts";
import { versionOutput } from "./lib/version-output.ts";

const { values: options } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    runs: { type: "string", default: "30" },
    slots: { type: "string", default: "2" },
    script: { type: "string", default: "e2e-trivial.py" },
    sandbox: { type: "string" },
    "sample-ms": { type: "string", default: "5000" },
    python: { type: "string", default: "/usr/bin/python3" },
    out: { type: "string", default: "bench/results/binary.json" },
    // V8 options for the worker alone (NODE_OPTIONS), e.g. --max-semi-space-size=1, to tell a
    // leak from a heap that grows until the collector's sizes are reached.
    "worker-node-options": { type: "string" },
  },
});

const RELEASE = path.join(ROOT, "release", `modulate-linux-${process.arch}`);
const MIB = 1024 * 1024;
const BARS = { fileMiB: 120, startRatio: 2, idleWorkerMB: 80, growthMiB: 8 };
/** The share of the jobs taken as the worker's warm-up, before growth is counted. */
const WARM_FRACTION = 0.2;
/** Submissions in flight at once from the one client. */
const WINDOW = 32;
/** How long a process sits idle before its memory is read. */
const IDLE_MS = 3_000;

function log(text: string): void {
  process.stderr.write(`bench:binary: ${text}\n`);
}

/** VmRSS of one process, in bytes. */
async function rssBytes(pid: number): Promise<number> {
  return (await readMemory(pid)).rssBytes;
}

/**
 * Resident memory of an idle `node -e "setInterval(()=>{},1000)"` of the same Node, read as
 * the file's processes are: the floor any Node process stands on.
 */
async function idleNodeBytes(): Promise<number> {
  const child = spawn(NODE, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    if (child.pid === undefined) throw new Error("could not start node");
    return await rssBytes(child.pid);
  } finally {
    child.kill();
  }
}

/** The process and every descendant: a worker's standby sandboxes are its too. */
async function treePids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const below = children.trim() === "" ? [] : children.trim().split(/\s+/).map(Number);
  return [pid, ...(await Promise.all(below.map(treePids))).flat()];
}

async function treeRssBytes(pid: number): Promise<number> {
  const sizes = await Promise.all((await treePids(pid)).map((p) => rssBytes(p).catch(() => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

const mb = (bytes: number): number => round1(bytes / 1e6);
const mib = (bytes: number): number => round1(bytes / MIB);

async function main(): Promise<void> {
  killStartedOnInterrupt();
  const jobs = Number(options.jobs);
  const built = await stat(RELEASE).catch(() => undefined);
  if (!built) throw new Error(`no ${RELEASE}: run \`npm run release\` first`);
  const work = await mkdtemp(path.join(tmpdir(), "bench-binary-"));
  // Run from a copy, as installed on a node. The build writes the file in a way that leaves
  // its pages in the page cache as large folios: run from there, every process of it maps
  // some 30 MB more of the file than it does from any copy (cp, download).
  const installed = path.join(work, "modulate");
  await copyFile(RELEASE, installed);
  try {
    // 1. Size.
    const size = { bytes: built.size, mib: mib(built.size) };
    log(`file: ${size.mib} MiB`);

    // 2. Start-up, one of each in turn, so that the machine's drift hits both alike.
    const versionText = versionOutput(installed);
    const runs = Number(options.runs);
    await measureSpawns(NODE, ["-e", "0"], 3, 1, "");
    await measureSpawns(installed, ["--version"], 3, 1, versionText);
    const nodeSamples: number[] = [];
    const fileSamples: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      nodeSamples.push((await measureSpawns(NODE, ["-e", "0"], 0, 1, "")).medianMs);
      fileSamples.push((await measureSpawns(installed, ["--version"], 0, 1, versionText)).medianMs);
    }
    const node = summarize(nodeSamples);
    const file = summarize(fileSamples);
    const startRatio = Math.round((file.medianMs / node.medianMs) * 100) / 100;
    log(`--version ${file.medianMs} ms, node -e 0 ${node.medianMs} ms: x${startRatio}`);

    // 3. Idle server and worker, started from the file, beside an idle Node.
    const nodeIdleBytes = await idleNodeBytes();
    const server = await startServer("durable", path.join(work, "data"), [], installed);
    await startRouter(server.url, installed);
    const workerNodeOptions = options["worker-node-options"];
    if (workerNodeOptions !== undefined) process.env["NODE_OPTIONS"] = workerNodeOptions;
    const worker = await startWorker({
      url: server.url,
      group: "bench",
      workDir: path.join(work, "worker"),
      python: options.python,
      slots: Number(options.slots),
      name: "worker",
      modulate: installed,
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
    });
    delete process.env["NODE_OPTIONS"];
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const pid = worker.process.pid;
    const idle = {
      worker: await readMemory(pid),
      server: await readMemory(server.process.pid),
      workerTreeBytes: await treeRssBytes(pid),
    };
    const idleRatio = Math.round((idle.worker.rssBytes / nodeIdleBytes) * 100) / 100;
    log(
      `idle: server ${mb(idle.server.rssBytes)} MB, worker ${mb(idle.worker.rssBytes)} MB (x${idleRatio} an idle node's ${mb(nodeIdleBytes)} MB; with its children ${mb(idle.workerTreeBytes)} MB)`,
    );

    // 4. The worker's memory over `jobs` trivial jobs: read every sample-ms and at each tenth.
    const client = new ModulateClient({ url: server.url });
    const samples: MemorySample[] = [];
    const tenths: MemorySample[] = [];
    const step = Math.max(1, Math.floor(jobs / 10));
    let done = 0;
    let next = 0;
    const started = performance.now();
    const read = async (into: MemorySample[], at: number): Promise<void> => {
      const atS = round1((performance.now() - started) / 1000);
      into.push({ jobs: at, atS, ...(await readMemory(pid)) });
    };
    let sampling = Promise.resolve();
    const timer = setInterval(() => {
      const at = done;
      sampling = sampling.then(() => read(samples, at));
    }, Number(options["sample-ms"]));
    const loadBefore = loadavg().map(round1);
    const cpuBefore = processCpu(pid)?.ownMs ?? Number.NaN;
    const submitter = async (): Promise<void> => {
      for (let i = next++; i < jobs; i = next++) {
        const spec = fixtureSpec("bench", options.script, "detach");
        await client.submit(spec, QUEUE_TIMEOUT_MS);
        const result = await client.waitForJob(spec.id, spec.mode);
        if (result.state !== "succeeded") {
          throw new Error(`job ${spec.id} ended ${result.state}: ${result.reason ?? ""}`);
        }
        done += 1;
        if (done % step === 0) {
          const at = done;
          sampling = sampling.then(() => read(tenths, at));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: WINDOW }, submitter));
    } finally {
      clearInterval(timer);
    }
    await sampling;
    const wallMs = performance.now() - started;
    const workerCpuMs = (processCpu(pid)?.ownMs ?? Number.NaN) - cpuBefore;
    const loadAfter = loadavg().map(round1);
    await client.close();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const afterIdle = await rssBytes(pid);
    const series = [...samples, ...tenths].sort((a, b) => a.jobs - b.jobs || a.atS - b.atS);
    const growth = judgeGrowth(series, afterIdle, jobs, {
      warmFraction: WARM_FRACTION,
      barBytes: BARS.growthMiB * MIB,
    });
    log(
      `${jobs} jobs in ${round1(wallMs / 1000)} s (worker CPU ${round1(workerCpuMs / jobs)} ms a job): worker ${mib(growth.warmBytes)} MiB after ${growth.warmJobs}, ${mib(growth.endBytes)} MiB at the end or idle after; second half ${growth.slopeMiBPerThousandJobs} MiB per 1,000 jobs`,
    );

    const bars = [
      {
        bar: `file under ${BARS.fileMiB} MiB`,
        value: size.mib,
        ok: size.mib < BARS.fileMiB,
      },
      {
        bar: `--version start-up at most ${BARS.startRatio}x node -e 0`,
        value: startRatio,
        ok: startRatio <= BARS.startRatio,
      },
      {
        bar: `idle worker under ${BARS.idleWorkerMB} MB`,
        value: mb(idle.worker.rssBytes),
        ok: idle.worker.rssBytes / 1e6 < BARS.idleWorkerMB,
      },
      {
        bar: `worker growth from ${growth.warmJobs} of ${jobs} jobs to the end under ${BARS.growthMiB} MiB`,
        value: mib(growth.growthBytes),
        ok: growth.ok,
      },
    ];
    for (const b of bars) log(`${b.ok ? "PASS" : "FAIL"} ${b.bar}: ${b.value}`);
    const report = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length, loadavg: loadavg().map(round1) },
      file: RELEASE,
      size,
      startup: { version: file, nodeE0: node, ratio: startRatio },
      idle: {
        serverMB: mb(idle.server.rssBytes),
        workerMB: mb(idle.worker.rssBytes),
        nodeIdleMB: mb(nodeIdleBytes),
        workerToNodeIdle: idleRatio,
        workerWithChildrenMB: mb(idle.workerTreeBytes),
        workerAnonMB: mb(idle.worker.anonBytes),
        workerFileMB: mb(idle.worker.fileBytes),
        serverAnonMB: mb(idle.server.anonBytes),
        serverFileMB: mb(idle.server.fileBytes),
        settleMs: IDLE_MS,
      },
      jobs: {
        count: jobs,
        script: options.script,
        sandbox: options.sandbox ?? "auto",
        workerNodeOptions: workerNodeOptions ?? null,
        slots: Number(options.slots),
        wallS: round1(wallMs / 1000),
        jobsPerSec: round1((jobs / wallMs) * 1000),
        workerCpuMsPerJob: round1(workerCpuMs / jobs),
        loadavgBefore: loadBefore,
        loadavgAfter: loadAfter,
        workerMiBAtEachTenth: tenths.map((s) => ({
          jobs: s.jobs,
          mib: mib(s.rssBytes),
          anonMiB: mib(s.anonBytes),
          fileMiB: mib(s.fileBytes),
        })),
        // [seconds, jobs done, RSS MiB, anon MiB], every sample-ms.
        workerOverTime: samples.map((s) => [s.atS, s.jobs, mib(s.rssBytes), mib(s.anonBytes)]),
        workerMiBIdleAfter: mib(afterIdle),
        growth: {
          warmJobs: growth.warmJobs,
          warmMiB: mib(growth.warmBytes),
          endMiB: mib(growth.endBytes),
          growthMiB: mib(growth.growthBytes),
          secondHalfMiBPer1000Jobs: growth.slopeMiBPerThousandJobs,
          secondHalfProjectedMiBPerRun: growth.projectedMiBPerRun,
        },
      },
      bars,
    };
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${options.out}`);
    if (bars.some((b) => !b.ok)) process.exitCode = 1;
  } finally {
    await stopStarted();
    await unmountEverythingUnder(work);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
