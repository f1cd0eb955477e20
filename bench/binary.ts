// `npm run bench:binary`: the single executable (issue 18), built first by `npm run release`:
//   1. its size (bar: under 120 MiB);
//   2. `modulate --version` start-up beside `node -e 0` of the same Node, in alternating rounds
//      (bar: median at most twice node's);
//   3. resident memory of an idle server and an idle worker started from the file (bar: the
//      worker under 80 MB);
//   4. the worker's resident memory while it runs --jobs trivial jobs, read at each tenth
//      (bar: from the first tenth to the end, no growth beyond noise: under 8 MiB).
// Options: --worker-node-options (V8 options for the worker alone), --jobs (default 10,000; a shared two-core machine takes minutes for that, so runs
// there use fewer, and say so), --runs (start-up samples of each), --slots, --python, --out.
// Prints the figures and the bars, writes bench/results/binary.json.
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
import { measureSpawns, QUEUE_TIMEOUT_MS } from "./lib/e2e-latency.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { round1, summarize } from "./lib/e2e-stats.ts";
import { versionOutput } from "./lib/version-output.ts";

const { values: options } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    runs: { type: "string", default: "30" },
    slots: { type: "string", default: "2" },
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
/** Submissions in flight at once from the one client. */
const WINDOW = 32;
/** How long a process sits idle before its memory is read. */
const IDLE_MS = 3_000;

function log(text: string): void {
  process.stderr.write(`bench:binary: ${text}\n`);
}

/** VmRSS of one process, in bytes. */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** VmRSS split: RssAnon (heaps, private) and RssFile (the executable's pages, shared). */
async function rssParts(pid: number): Promise<{ anonBytes: number; fileBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { anonBytes: kb("RssAnon"), fileBytes: kb("RssFile") };
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

    // 3. Idle server and worker, started from the file.
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
    });
    delete process.env["NODE_OPTIONS"];
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = {
      workerParts: await rssParts(worker.process.pid),
      serverParts: await rssParts(server.process.pid),
      serverBytes: await rssBytes(server.process.pid),
      workerBytes: await rssBytes(worker.process.pid),
      workerTreeBytes: await treeRssBytes(worker.process.pid),
    };
    log(
      `idle: server ${mb(idle.serverBytes)} MB, worker ${mb(idle.workerBytes)} MB (with its children ${mb(idle.workerTreeBytes)} MB)`,
    );

    // 4. The worker's memory over `jobs` trivial jobs, read at each tenth.
    const client = new ModulateClient({ url: server.url });
    const samples: { jobs: number; workerBytes: number; anonBytes: number; fileBytes: number }[] =
      [];
    const step = Math.max(1, Math.floor(jobs / 10));
    let done = 0;
    let next = 0;
    let sampling = Promise.resolve();
    const started = performance.now();
    const submitter = async (): Promise<void> => {
      for (let i = next++; i < jobs; i = next++) {
        const spec = fixtureSpec("bench", "e2e-trivial.py", "detach");
        await client.submit(spec, QUEUE_TIMEOUT_MS);
        const result = await client.waitForJob(spec.id, spec.mode);
        if (result.state !== "succeeded") {
          throw new Error(`job ${spec.id} ended ${result.state}: ${result.reason ?? ""}`);
        }
        done += 1;
        if (done % step === 0) {
          const at = done;
          sampling = sampling.then(async () => {
            const pid = worker.process.pid;
            samples.push({ jobs: at, workerBytes: await rssBytes(pid), ...(await rssParts(pid)) });
          });
        }
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, submitter));
    await sampling;
    const wallMs = performance.now() - started;
    await client.close();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const afterIdle = await rssBytes(worker.process.pid);
    const first = samples[0]?.workerBytes ?? Number.NaN;
    const last = samples[samples.length - 1]?.workerBytes ?? Number.NaN;
    const growthBytes = Math.max(last, afterIdle) - first;
    log(
      `${jobs} jobs in ${round1(wallMs / 1000)} s: worker ${mib(first)} MiB after the first tenth, ${mib(last)} MiB at the end, ${mib(afterIdle)} MiB idle after`,
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
        value: mb(idle.workerBytes),
        ok: idle.workerBytes / 1e6 < BARS.idleWorkerMB,
      },
      {
        bar: `worker growth from the first tenth of ${jobs} jobs under ${BARS.growthMiB} MiB`,
        value: mib(growthBytes),
        ok: growthBytes / MIB < BARS.growthMiB,
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
        serverMB: mb(idle.serverBytes),
        workerMB: mb(idle.workerBytes),
        workerWithChildrenMB: mb(idle.workerTreeBytes),
        workerAnonMB: mb(idle.workerParts.anonBytes),
        workerFileMB: mb(idle.workerParts.fileBytes),
        serverAnonMB: mb(idle.serverParts.anonBytes),
        serverFileMB: mb(idle.serverParts.fileBytes),
        settleMs: IDLE_MS,
      },
      jobs: {
        count: jobs,
        workerNodeOptions: workerNodeOptions ?? null,
        slots: Number(options.slots),
        wallS: round1(wallMs / 1000),
        jobsPerSec: round1((jobs / wallMs) * 1000),
        workerMiBAtEachTenth: samples.map((s) => ({
          jobs: s.jobs,
          mib: mib(s.workerBytes),
          anonMiB: mib(s.anonBytes),
          fileMiB: mib(s.fileBytes),
        })),
        workerMiBIdleAfter: mib(afterIdle),
        growthMiB: mib(growthBytes),
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
