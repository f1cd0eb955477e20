// `npm run bench:e2e`: modulate end to end, against real processes (a durable server, one
// router, two workers with their default sandbox), in one run:
//   1. latency of a waiting trivial python job, from a long-lived client and from the CLI,
//      beside `python3 -I -c pass` (the worker's interpreter and flags) and `node -e 0`;
//   2. throughput of detached trivial jobs on two workers, against the machine's limit
//      (cores / CPU time of one python start), and beside what python and the sandbox's own
//      start (bwrap running /bin/true, measured in phase 1) leave room for;
//   3. kill -9 of a busy worker until its peer has the job's result.
// Prints tables and the brief's bars, writes bench/results/e2e.json. Before each phase it
// waits while another engineer's bench/server.ts or tests run: the machine has two cores.
// Options: --in-memory (server without --data), --slots N, --sandbox MODE (diagnosis only),
// --python PATH, --warmups, --client-runs, --cli-runs, --jobs, --crash-runs, --out, --prefetch N
// (the workers' --prefetch; 0 measures without it), --warm-python off (the workers'
// --no-warm-python), and --only cli: the CLI's submissions alone, interleaved with python,
// node -e 0 and the CLI's start (bench/lib/e2e-cli.ts), written to bench/results/e2e-cli.json;
// --only client: phase 1's long-lived client alone, beside python alone, judged against the
// bar (python alone plus half a python start), written to bench/results/e2e-client.json.
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { versionOutput } from "./lib/version-output.ts";
import { ModulateClient } from "../src/orchestration/client.ts";
import { unmountEverythingUnder } from "../src/sandbox/disk-areas.ts";
import {
  FIXTURES,
  MODULATE,
  NODE,
  ROOT,
  sandboxMode,
  startCluster,
  workerPython,
  type Storage,
} from "./lib/e2e-cluster.ts";
import { cpuBetween, snapshotCpu } from "./lib/e2e-cpu.ts";
import { measureOneCrash, type CrashRun } from "./lib/e2e-crash.ts";
import { measureBackToBack, measureClientLatency, measureSpawns } from "./lib/e2e-latency.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { measureQuietly, waitForQuiet, type QuietCheck } from "./lib/e2e-quiet.ts";
import {
  judgeBars,
  printReport,
  type E2eReport,
  type Latencies,
  type MachineLimit,
} from "./lib/e2e-report.ts";
import { measureSandboxStart } from "./lib/e2e-sandbox-floor.ts";
import { round1 } from "./lib/e2e-stats.ts";
import {
  cliCommands,
  cliReport,
  measureInterleaved,
  printCliReport,
  writeCliReport,
} from "./lib/e2e-cli.ts";
import { measureThroughput } from "./lib/e2e-throughput.ts";

const { values: options } = parseArgs({
  options: {
    "in-memory": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
    slots: { type: "string", default: "1" },
    sandbox: { type: "string" },
    /** The workers' --prefetch (their default when left out): 0 measures without it. */
    prefetch: { type: "string" },
    warmups: { type: "string", default: "5" },
    "client-runs": { type: "string", default: "200" },
    "cli-runs": { type: "string", default: "30" },
    jobs: { type: "string", default: "500" },
    "crash-runs": { type: "string", default: "3" },
    out: { type: "string" },
    only: { type: "string" },
    "warm-python": { type: "string" },
  },
});
if (options.only !== undefined && options.only !== "cli" && options.only !== "client") {
  throw new Error(
    `--only ${options.only} is not a part this bench runs alone: use --only cli or --only client`,
  );
}
if (options["warm-python"] !== undefined && !["on", "off"].includes(options["warm-python"])) {
  throw new Error(`--warm-python ${options["warm-python"]}: use on or off`);
}
const OUT =
  options.out ??
  (options.only === undefined
    ? "bench/results/e2e.json"
    : `bench/results/e2e-${options.only}.json`);
const GROUP = "g";
const SLOTS = Number(options.slots);
const WARMUPS = Number(options.warmups);
const CLIENT_RUNS = Number(options["client-runs"]);
const CLI_RUNS = Number(options["cli-runs"]);
const JOBS = Number(options.jobs);
const CRASH_RUNS = Number(options["crash-runs"]);
const TRIVIAL = path.join(FIXTURES, "e2e-trivial.py");
/** Where Debian's bubblewrap lives; measured alone only when the workers chose it. */
const BWRAP = "/usr/bin/bwrap";
const DIST = path.join(ROOT, "dist", "modulate.mjs");
/** python's runs also give the CPU of one start, read in 10 ms ticks: 100 keep that to ~1%. */
const PYTHON_RUNS = 100;
const NODE_RUNS = 30;
/** Submissions back to back, for information beside the bar's (a). */
const BACK_TO_BACK_RUNS = 100;
const CLI_START_RUNS = 10;

function log(line: string): void {
  console.log(`[bench:e2e] ${line}`);
}

/** Newest mtime of a file under `dir`, to tell whether dist/ was built from this src/. */
async function newestMtimeMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * release/modulate-linux-x64 if `npm run release` built it from this src/ (it is measured
 * beside bin/modulate, as the file users deploy); otherwise undefined, said in one line.
 */
async function singleFileBuild(): Promise<string | undefined> {
  const file = path.join(ROOT, "release", `modulate-linux-${process.arch}`);
  const built = await stat(file).catch(() => undefined);
  if (!built) {
    log("no single executable: run `npm run release` first to measure its CLI too");
    return undefined;
  }
  if ((await newestMtimeMs(path.join(ROOT, "src"))) > built.mtimeMs) {
    log("single executable older than src/: not measured (run `npm run release`)");
    return undefined;
  }
  return file;
}

async function main(): Promise<void> {
  killStartedOnInterrupt();
  const cores = cpus().length;
  const distMtimeMs = (await stat(DIST)).mtimeMs;
  const distIsStale = (await newestMtimeMs(path.join(ROOT, "src"))) > distMtimeMs;
  if (distIsStale) log("warning: dist/ is older than src/: processes run the last build");
  const storage: Storage = options["in-memory"] ? "in-memory" : "durable";
  const quietChecks: QuietCheck[] = [];
  const phase = async <T>(name: string, measure: () => Promise<T>): Promise<T> => {
    const { result, check } = await measureQuietly(name, measure, log);
    quietChecks.push(check);
    return result;
  };
  const root = await mkdtemp(path.join(tmpdir(), "modulate-bench-e2e-"));
  // mkdtemp makes it 0700; a job user (--run-as) would have to pass through it.
  await chmod(root, 0o711);
  let client: ModulateClient | undefined;
  try {
    // Start-up is not measured: waiting for quiet is enough, and a second try would start
    // a second cluster.
    await waitForQuiet("start-up", log);
    const cluster = await startCluster(storage, root, {
      group: GROUP,
      python: options.python,
      slots: SLOTS,
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
      ...(options.prefetch === undefined ? {} : { prefetch: Number(options.prefetch) }),
      ...(options["warm-python"] === "off" ? { warmPython: false } : {}),
    });
    const { server, workers } = cluster;
    const python = workerPython(workers[0]);
    log(`server ${server.url} (${storage}), one router, 2 workers x ${SLOTS} slot(s)`);
    for (const note of workers[0].notes) log(`worker-1: ${note}`);
    if (options.only === "cli") {
      const commands = cliCommands({
        url: server.url,
        group: GROUP,
        script: TRIVIAL,
        python,
        node: NODE,
        modulate: MODULATE,
        singleFile: await singleFileBuild(),
        version: versionOutput(MODULATE).split("\n")[0] ?? "",
      });
      const latency = await phase("CLI, interleaved", () =>
        measureInterleaved(commands, 2, CLI_RUNS),
      );
      const report = cliReport(latency, 2, CLI_RUNS, quietChecks);
      await writeCliReport(report, OUT);
      console.log(printCliReport(report).join("\n"));
      console.log(`wrote ${OUT}`);
      return;
    }
    const modulate = new ModulateClient({ url: server.url });
    client = modulate;
    if (options.only === "client") {
      const loadBefore = loadavg();
      const pythonAlone = await phase("python3 -I -c pass", () =>
        measureSpawns(python, ["-I", "-c", "pass"], 3, PYTHON_RUNS, ""),
      );
      const measured = await phase("long-lived client", () =>
        measureClientLatency(modulate, GROUP, WARMUPS, CLIENT_RUNS, {
          file: python,
          args: ["-I", "-c", "pass"],
        }),
      );
      const loadAfter = loadavg();
      // The bar: python alone (run beside each submission) plus half of a python start.
      const beside = measured.baselineBeside.medianMs;
      const barMs = round1(beside * 1.5);
      const report = {
        date: new Date().toISOString(),
        machine: { cores, model: cpus()[0]?.model ?? "unknown" },
        load: { before: loadBefore, after: loadAfter },
        quietChecks,
        warmPython: options["warm-python"] ?? "default (on)",
        workerNotes: workers[0].notes,
        python,
        pythonAlone,
        client: measured,
        overheadMs: round1(measured.medianMs - beside),
        ratioToPythonAlone: Math.round((measured.medianMs / beside) * 100) / 100,
        bar: {
          text: "waiting job from a long-lived client: median at most python alone plus half a python start",
          limitMs: barMs,
          medianMs: measured.medianMs,
          met: measured.medianMs <= barMs,
        },
      };
      await mkdir(path.dirname(OUT), { recursive: true });
      await writeFile(OUT, `${JSON.stringify(report, null, 2)}\n`);
      log(
        `client: median ${measured.medianMs} ms (p95 ${measured.p95Ms}), python alone beside ${beside} ms: ${report.ratioToPythonAlone}x, overhead ${report.overheadMs} ms; bar ${barMs} ms: ${report.bar.met ? "met" : "missed"}; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")} -> ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
      );
      console.log(`wrote ${OUT}`);
      return;
    }
    const cpuNow = () => snapshotCpu(cluster.cpuPids());

    log("phase 1: latency of a waiting trivial job, beside python and node alone");
    const pythonBaseline = await phase("python3 -I -c pass", () =>
      measureSpawns(python, ["-I", "-c", "pass"], 3, PYTHON_RUNS, ""),
    );
    const nodeBaseline = await phase("node -e 0", () =>
      measureSpawns(NODE, ["-e", "0"], 3, NODE_RUNS, ""),
    );
    const sandboxStart =
      sandboxMode(workers[0]) === "bwrap"
        ? await phase("bwrap alone", () => measureSandboxStart(BWRAP, root, PYTHON_RUNS))
        : undefined;
    const { clientLatency, clientCpu } = await phase("long-lived client", async () => {
      const before = cpuNow();
      const measured = await measureClientLatency(modulate, GROUP, WARMUPS, CLIENT_RUNS, {
        file: python,
        args: ["-I", "-c", "pass"],
      });
      return { clientLatency: measured, clientCpu: cpuBetween(before, cpuNow()) };
    });
    const clientBackToBack = await phase("long-lived client, back to back", () =>
      measureBackToBack(modulate, GROUP, WARMUPS, BACK_TO_BACK_RUNS),
    );
    const cliArgs = ["submit", TRIVIAL, "--group", GROUP, "--url", server.url];
    const cli = await phase("CLI", () => measureSpawns(MODULATE, cliArgs, 2, CLI_RUNS, "1\n"));
    const cliStart = await phase("CLI start", () =>
      measureSpawns(MODULATE, ["--version"], 2, CLI_START_RUNS, versionOutput(MODULATE)),
    );
    const singleFile = await singleFileBuild();
    const cliSingleFile = singleFile
      ? await phase("CLI, single executable", () =>
          measureSpawns(singleFile, cliArgs, 2, CLI_RUNS, "1\n"),
        )
      : undefined;
    const latencies: Latencies = {
      client: clientLatency,
      clientBackToBack,
      cli,
      python: pythonBaseline,
      node: nodeBaseline,
      cliStart,
      ...(cliSingleFile ? { cliSingleFile } : {}),
    };
    const limit: MachineLimit = {
      cores,
      cpuPerPythonStartMs: pythonBaseline.cpuPerRunMs,
      jobsPerSec: round1((cores * 1000) / pythonBaseline.cpuPerRunMs),
      ...(sandboxStart
        ? {
            cpuPerSandboxStartMs: sandboxStart.cpuPerRunMs,
            withSandboxJobsPerSec: round1(
              (cores * 1000) / (pythonBaseline.cpuPerRunMs + sandboxStart.cpuPerRunMs),
            ),
          }
        : {}),
    };

    log(`phase 2: ${JOBS} detached trivial jobs`);
    const { throughput, throughputCpu } = await phase("throughput", async () => {
      const before = cpuNow();
      const measured = await measureThroughput(modulate, GROUP, JOBS);
      return { throughput: measured, throughputCpu: cpuBetween(before, cpuNow()) };
    });

    const crashes: CrashRun[] = [];
    for (let run = 1; run <= CRASH_RUNS; run += 1) {
      log(`phase 3: kill -9 a busy worker (repeat ${run} of ${CRASH_RUNS})`);
      const crash = await phase(`kill -9 repeat ${run}`, async () => {
        const { run: measured, killed } = await measureOneCrash(modulate, GROUP, workers);
        // Two live workers for the next repeat: the killed one's place goes to a fresh one.
        workers[workers.indexOf(killed) === 0 ? 0 : 1] = await cluster.newWorker();
        return measured;
      });
      crashes.push(crash);
    }

    // Tests rebuild dist/ in their global set-up: processes started before and after such a
    // rebuild ran different builds, and the figures mix them.
    const distRebuilt = (await stat(DIST)).mtimeMs !== distMtimeMs;
    if (distRebuilt) log("warning: dist/ was rebuilt during the run: the figures mix two builds");
    const report: E2eReport = {
      date: new Date().toISOString(),
      machine: { cores, model: cpus()[0]?.model ?? "unknown" },
      setup: {
        server:
          storage === "durable" ? "durable (--data in a temp dir, --sync full)" : "--in-memory",
        workers: {
          count: 2,
          slotsEach: SLOTS,
          lease: "8s (default)",
          prefetch: options.prefetch === undefined ? "default (1)" : Number(options.prefetch),
        },
        python,
        sandboxMode: sandboxMode(workers[0]),
        workerNotes: workers[0].notes,
        distBuiltAt: new Date(distMtimeMs).toISOString(),
        distIsStale,
        distRebuilt,
      },
      quietChecks,
      latency: {
        ...latencies,
        overheadClientMs: round1(clientLatency.medianMs - clientLatency.baselineBeside.medianMs),
        overheadCliMs: round1(cli.medianMs - pythonBaseline.medianMs),
        cpuDuringClientRuns: clientCpu,
      },
      throughput: { ...throughput, limit, cpu: throughputCpu },
      crash: {
        runs: crashes,
        maxKillToRestartMs: Math.max(...crashes.map((c) => c.killToRestartMs)),
        maxKillToResultMs: Math.max(...crashes.map((c) => c.killToResultMs)),
      },
      bars: judgeBars(latencies, throughput, limit, crashes),
    };
    await mkdir(path.dirname(OUT), { recursive: true });
    await writeFile(OUT, `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);
    console.log(`wrote ${OUT}`);
  } finally {
    await client?.close();
    await stopStarted();
    // The workers killed in phase 3 left their disk areas mounted.
    await unmountEverythingUnder(root);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
