// Part 4: the server's write requests per second while N jobs run, each printing 1,000 lines a
// second, beside the same N jobs printing nothing: the difference, per job, is what live
// output costs the server. Counted at a counting proxy (ops-proxy.ts) that the router and the
// workers use as their server. Every job of a round sleeps until one shared wall-clock moment,
// prints (or not) until a second one, and exits: the window counted is inside that span, once
// every job of the round is running.
import type { ModulateClient } from "../../src/orchestration/client.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import { QUEUE_TIMEOUT_MS } from "./e2e-latency.ts";
import { round1 } from "./e2e-stats.ts";
import { isWrite, ratesBetween, type CountingProxy } from "./ops-proxy.ts";
import { sleep } from "./ops-spawn.ts";

export interface WritesRound {
  readonly printing: boolean;
  readonly jobs: number;
  /** Jobs the bench saw running together (from `ls`'s view) before the window. */
  readonly runningAtStart: number;
  readonly windowSec: number;
  readonly writesPerSec: number;
  readonly readsPerSec: number;
  readonly byKindPerSec: Record<string, number>;
}

export interface WritesReport {
  readonly jobs: number;
  readonly linesPerSecEach: number;
  readonly quiet: WritesRound;
  readonly chatty: WritesRound;
  readonly extraWritesPerSec: number;
  readonly extraWritesPerSecPerJob: number;
  /** Per kind, printing minus quiet, per running job: chunks are `promise.create`. */
  readonly extraPerJobByKind: Record<string, number>;
}

/** Lines are written ten at a time, every 10 ms: a thousand a second without 1,000 wake-ups. */
const BURST = 10;
/**
 * Edges of the span left out of the window: jobs start and end there. The default span (12 s)
 * leaves a 10 s window: a whole period of the workers' 10 s listener re-checks
 * (wire/listener.ts RECHECK_MS), which both rounds have and which would otherwise add noise.
 */
const EDGE_MS = 1_000;

function roundScript(printing: boolean, startAtMs: number, endAtMs: number, rate: number): string {
  const wait = [
    "import sys, time",
    `start_at, end_at = ${startAtMs / 1000}, ${endAtMs / 1000}`,
    "time.sleep(max(0, start_at - time.time()))",
  ];
  if (!printing) return [...wait, "time.sleep(max(0, end_at - time.time()))", ""].join("\n");
  return [
    ...wait,
    "t0, i = time.monotonic(), 0",
    "while time.time() < end_at:",
    `    sys.stdout.write(''.join(f'ops-chatty line {i + k}\\n' for k in range(${BURST})))`,
    "    sys.stdout.flush()",
    `    i += ${BURST}`,
    `    wait = t0 + i / ${rate} - time.monotonic()`,
    "    if wait > 0: time.sleep(wait)",
    "",
  ].join("\n");
}

async function runningCount(client: ModulateClient): Promise<number> {
  const list = await client.list({ all: false, state: "running", limit: 10_000 });
  return list.jobs.length;
}

export async function measureRound(
  client: ModulateClient,
  proxy: CountingProxy,
  options: {
    group: string;
    jobs: number;
    printing: boolean;
    linesPerSec: number;
    printSec: number;
    leadSec: number;
  },
  log: (line: string) => void,
): Promise<WritesRound> {
  const now = Date.now();
  const startAtMs = now + options.leadSec * 1000;
  const endAtMs = startAtMs + options.printSec * 1000;
  const content = roundScript(options.printing, startAtMs, endAtMs, options.linesPerSec);
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: options.jobs }, async (_, i) => {
      const id = `${newJobId(now)}-${i}`;
      ids.push(id);
      await client.submit(
        {
          id,
          group: options.group,
          script: { name: options.printing ? "ops-chatty.py" : "ops-quiet.py", content },
          args: [],
          timeoutMs: 10 * 60_000,
          mode: "detach",
          submittedAt: now,
        },
        QUEUE_TIMEOUT_MS,
      );
    }),
  );
  let running = 0;
  while (Date.now() < startAtMs) {
    running = await runningCount(client);
    if (running >= options.jobs) break;
    await sleep(1_000);
  }
  if (running < options.jobs) {
    log(
      `writes: only ${running} of ${options.jobs} jobs running at the start: raise --writes-lead`,
    );
  }
  const toPerf = (wallMs: number): number => wallMs - performance.timeOrigin;
  const fromMs = toPerf(Math.max(startAtMs, Date.now())) + EDGE_MS;
  const toMs = toPerf(endAtMs) - EDGE_MS;
  await sleep(Math.max(0, toMs - performance.now()));
  const byKind = ratesBetween(proxy.arrivals, fromMs, toMs);
  // Wait for every job's end, so the next round starts on an idle cluster.
  await Promise.all(ids.map((id) => client.waitForJob(id)));
  const sum = (write: boolean): number =>
    round1(
      Object.entries(byKind)
        .filter(([kind]) => isWrite(kind) === write)
        .reduce((total, [, rate]) => total + rate, 0),
    );
  return {
    printing: options.printing,
    jobs: options.jobs,
    runningAtStart: running,
    windowSec: round1((toMs - fromMs) / 1000),
    writesPerSec: sum(true),
    readsPerSec: sum(false),
    byKindPerSec: byKind,
  };
}

export async function measureWrites(
  client: ModulateClient,
  proxy: CountingProxy,
  options: { group: string; jobs: number; linesPerSec: number; printSec: number; leadSec: number },
  log: (line: string) => void,
): Promise<WritesReport> {
  log(`writes: ${options.jobs} jobs printing nothing for ${options.printSec} s`);
  const quiet = await measureRound(client, proxy, { ...options, printing: false }, log);
  log(
    `writes: ${options.jobs} jobs printing ${options.linesPerSec} lines/s for ${options.printSec} s`,
  );
  const chatty = await measureRound(client, proxy, { ...options, printing: true }, log);
  const extra = round1(chatty.writesPerSec - quiet.writesPerSec);
  const extraPerJobByKind: Record<string, number> = {};
  for (const kind of new Set([
    ...Object.keys(quiet.byKindPerSec),
    ...Object.keys(chatty.byKindPerSec),
  ])) {
    if (!isWrite(kind)) continue;
    const perJob =
      ((chatty.byKindPerSec[kind] ?? 0) - (quiet.byKindPerSec[kind] ?? 0)) / options.jobs;
    extraPerJobByKind[kind] = Math.round(perJob * 100) / 100;
  }
  return {
    jobs: options.jobs,
    linesPerSecEach: options.linesPerSec,
    quiet,
    chatty,
    extraWritesPerSec: extra,
    extraWritesPerSecPerJob: Math.round((extra / options.jobs) * 100) / 100,
    extraPerJobByKind,
  };
}
