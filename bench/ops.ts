// `npm run bench:ops`: the operator's commands against real processes (issue 15):
//   1. ls: `modulate ls` from the CLI against a durable `modulate server` holding N outstanding
//      jobs (queued for a group nobody serves) and M finished ones, beside `modulate --version`
//      timed in the same rounds; bar: median under --version's + 300 ms;
//   2. logs: a line's print (the script's own wall clock) to `modulate logs ID --follow`'s
//      stdout, for a line every 100 ms (bar: p95 under 1 s) and for 1,000 lines a second;
//   3. cancel: `modulate cancel ID` launched to the last of the job's processes gone, for a
//      python job waiting on a child `sleep` (bar: under 2 s);
//   4. writes: the server's write requests per second with N running jobs printing 1,000 lines
//      a second each, beside the same jobs printing nothing, counted at a proxy.
// Each part runs alone with --only (repeatable). Figures are meant as ratios to what the same
// run times beside them: the machine is shared. Prints tables and the bars, writes
// bench/results/ops.json. Options: --only, --outstanding, --finished, --fill-concurrency,
// --ls-runs, --log-lines, --chatty-lines, --cancel-runs, --writes-jobs, --writes-workers,
// --writes-slots, --writes-print-sec, --writes-lead-sec, --writes-sandbox, --sandbox,
// --python, --out.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModulateClient } from "../src/orchestration/client.ts";
import { unmountEverythingUnder } from "../src/sandbox/disk-areas.ts";
import {
  sandboxMode,
  startRouter,
  startServer,
  startWorker,
  type WorkerHandle,
} from "./lib/e2e-cluster.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { privateCli } from "./lib/ops-cli.ts";
import { measureCancel, type CancelReport } from "./lib/ops-cancel.ts";
import { runLsPart, type LsPart } from "./lib/ops-ls-part.ts";
import { measureLogLatency, type LogLatency } from "./lib/ops-logs.ts";
import { startCountingProxy } from "./lib/ops-proxy.ts";
import { judgeBars, printReport, type OpsReport } from "./lib/ops-report.ts";
import { killFollowed } from "./lib/ops-spawn.ts";
import { measureWrites, type WritesReport } from "./lib/ops-writes.ts";

const PARTS = ["ls", "logs", "cancel", "writes"] as const;
type Part = (typeof PARTS)[number];

const { values: options } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    outstanding: { type: "string", default: "10000" },
    finished: { type: "string", default: "100000" },
    "fill-concurrency": { type: "string", default: "32" },
    "ls-runs": { type: "string", default: "5" },
    "log-lines": { type: "string", default: "100" },
    "chatty-lines": { type: "string", default: "5000" },
    "cancel-runs": { type: "string", default: "5" },
    "writes-jobs": { type: "string", default: "100" },
    "writes-workers": { type: "string", default: "4" },
    "writes-slots": { type: "string", default: "25" },
    "writes-print-sec": { type: "string", default: "12" },
    "writes-lead-sec": { type: "string" },
    "writes-sandbox": { type: "string" },
    sandbox: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
    out: { type: "string", default: "bench/results/ops.json" },
  },
});

const only = new Set<string>(options.only ?? PARTS);
for (const part of only) {
  if (!(PARTS as readonly string[]).includes(part)) {
    console.error(`--only ${part} is not a part: use ${PARTS.join(", ")}`);
    process.exit(2);
  }
}
const runs = (part: Part): boolean => only.has(part);
const num = (name: keyof typeof options): number => Number(options[name]);

/** The group the log and cancel jobs run in; the ls part's jobs wait for another. */
const GROUP = "ops";
const NOBODY_GROUP = "ops-nobody";

function log(line: string): void {
  console.log(`[bench:ops] ${line}`);
}

function workerArgs(sandbox: string | undefined): { sandbox?: string } {
  return sandbox === undefined ? {} : { sandbox };
}

/** Server, router and two workers of `GROUP` for parts 2 and 3. */
async function logsAndCancel(
  modulate: string,
  root: string,
): Promise<{
  logs?: LogLatency[];
  cancel?: CancelReport;
  sandbox: string;
}> {
  const server = await startServer("durable", path.join(root, "lc-data"), [], modulate);
  await startRouter(server.url, modulate);
  const workers: WorkerHandle[] = [];
  for (const name of ["lc-worker-1", "lc-worker-2"]) {
    workers.push(
      await startWorker({
        modulate,
        url: server.url,
        group: GROUP,
        workDir: path.join(root, name),
        python: options.python,
        slots: 2,
        name,
        ...workerArgs(options.sandbox),
      }),
    );
  }
  const sandbox = workers[0] ? sandboxMode(workers[0]) : "unknown";
  log(`logs/cancel: server ${server.url}, one router, 2 workers x 2 slots (sandbox ${sandbox})`);
  const client = new ModulateClient({ url: server.url });
  try {
    let logs: LogLatency[] | undefined;
    if (runs("logs")) {
      logs = [];
      for (const pattern of [
        { name: "steady", linesPerSec: 10, lines: num("log-lines") },
        { name: "chatty", linesPerSec: 1000, lines: num("chatty-lines") },
      ]) {
        log(`logs: ${pattern.lines} lines at ${pattern.linesPerSec}/s, followed from the CLI`);
        logs.push(await measureLogLatency(modulate, server.url, client, GROUP, pattern));
      }
    }
    const cancel = runs("cancel")
      ? await measureCancel(
          modulate,
          server.url,
          client,
          GROUP,
          new Set(workers.map((w) => w.process.pid)),
          num("cancel-runs"),
          log,
        )
      : undefined;
    return { ...(logs ? { logs } : {}), ...(cancel ? { cancel } : {}), sandbox };
  } finally {
    await client.close();
    await stopStarted();
  }
}

/** Server, counting proxy, router and workers, all talking to the server through the proxy. */
async function writesPart(
  modulate: string,
  root: string,
): Promise<{ writes: WritesReport; sandbox: string }> {
  const server = await startServer("durable", path.join(root, "w-data"), [], modulate);
  const proxy = await startCountingProxy(server.url);
  const client = new ModulateClient({ url: proxy.url });
  try {
    await startRouter(proxy.url, modulate);
    let sandbox = "unknown";
    for (let i = 1; i <= num("writes-workers"); i += 1) {
      const worker = await startWorker({
        modulate,
        url: proxy.url,
        group: GROUP,
        workDir: path.join(root, `w-worker-${i}`),
        python: options.python,
        slots: num("writes-slots"),
        name: `w-worker-${i}`,
        ...workerArgs(options["writes-sandbox"] ?? options.sandbox),
      });
      sandbox = sandboxMode(worker);
    }
    log(
      `writes: server ${server.url} behind proxy ${proxy.url}, one router, ${num("writes-workers")} workers x ${num("writes-slots")} slots (sandbox ${sandbox})`,
    );
    const writes = await measureWrites(
      client,
      proxy,
      {
        group: GROUP,
        jobs: num("writes-jobs"),
        linesPerSec: 1000,
        printSec: num("writes-print-sec"),
        // Time for every job to reach a worker and start: about 0.3 s a job on two busy cores.
        leadSec:
          options["writes-lead-sec"] === undefined
            ? Math.max(15, Math.ceil(num("writes-jobs") * 0.3))
            : num("writes-lead-sec"),
      },
      log,
    );
    return { writes, sandbox };
  } finally {
    await client.close();
    await stopStarted();
    await proxy.close();
  }
}

async function main(): Promise<void> {
  killStartedOnInterrupt();
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.prependOnceListener(signal, killFollowed);
  const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const root = await mkdtemp(path.join(tmpdir(), "modulate-bench-ops-"));
  // mkdtemp makes it 0700; a job user (--run-as) would have to pass through it.
  await chmod(root, 0o711);
  // Every process runs this copy of bin/ and dist/: one build for the whole run.
  const { modulate, distBuiltAt } = await privateCli(root);
  const setup: Record<string, unknown> = {
    distBuiltAt,
    cli: "a copy of bin/modulate and dist/ made at the start, for every process of the run",
    parts: [...only],
  };
  const partial: Omit<OpsReport, "bars" | "date" | "machine" | "setup"> & {
    ls?: LsPart;
    logs?: readonly LogLatency[];
    cancel?: CancelReport;
    writes?: WritesReport;
  } = {};
  try {
    if (runs("ls")) {
      setup["ls"] = { loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
      partial.ls = await runLsPart(
        modulate,
        root,
        {
          outstanding: num("outstanding"),
          finished: num("finished"),
          group: NOBODY_GROUP,
          concurrency: num("fill-concurrency"),
        },
        num("ls-runs"),
        log,
      );
    }
    if (runs("logs") || runs("cancel")) {
      const measured = await logsAndCancel(modulate, root);
      setup["logsAndCancel"] = {
        workers: "2 x 2 slots",
        sandbox: measured.sandbox,
        followerPollMs: 250,
      };
      if (measured.logs) partial.logs = measured.logs;
      if (measured.cancel) partial.cancel = measured.cancel;
    }
    if (runs("writes")) {
      const measured = await writesPart(modulate, root);
      setup["writes"] = {
        workers: `${num("writes-workers")} x ${num("writes-slots")} slots`,
        sandbox: measured.sandbox,
        counted:
          "at a counting HTTP proxy in front of the server (router, workers and bench use it)",
      };
      partial.writes = measured.writes;
    }
    const base = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown", loadAverageAtStart },
      setup,
      ...partial,
    };
    const report: OpsReport = { ...base, bars: judgeBars(base) };
    await mkdir(path.dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);
    console.log(`wrote ${options.out}`);
  } finally {
    killFollowed();
    await stopStarted();
    await unmountEverythingUnder(root);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
