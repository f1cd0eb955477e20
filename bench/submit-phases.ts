// `npm run bench:submit-phases`: where a waiting `modulate submit` of a trivial python job spends
// its time, step by step, across the CLI, router and worker (issue 17). Every process of a local
// cluster (server, one router, one worker of 2 slots) and each `bin/modulate submit` write their
// steps to one MODULATE_TRACE file (src/common/trace.ts); the python run's own times come from
// the job's record. Prints the median of each step's time from the spawn, the median of each gap
// between steps, requests per job by process, and `node -e 0` and python alone timed in the same
// rounds; writes bench/results/submit-phases.json (--out FILE, --runs N (20), --python PATH,
// --no-wait: measure without waiting for a quiet machine; the load is recorded either way).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModulateClient } from "../src/orchestration/client.ts";
import { FIXTURES, MODULATE, NODE, startCluster, workerPython } from "./lib/e2e-cluster.ts";
import { killStartedOnInterrupt, stopStarted } from "./lib/e2e-processes.ts";
import { measureQuietly, waitForQuiet, type QuietCheck } from "./lib/e2e-quiet.ts";
import { round1, summarize } from "./lib/e2e-stats.ts";

const { values: options } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    // The worker's interpreter, as bench:e2e takes it.
    python: { type: "string", default: "/usr/bin/python3" },
    out: { type: "string", default: "bench/results/submit-phases.json" },
    // Measure at once, however busy the machine (its load is recorded before and after).
    "no-wait": { type: "boolean", default: false },
  },
});
const RUNS = Number(options.runs);
const GROUP = "g";

function log(line: string): void {
  console.log(`[bench:submit-phases] ${line}`);
}

interface TraceLine {
  atMs: number;
  cpuMs: number;
  component: string;
  pid: number;
  step: string;
  detail: string;
}

function parseTrace(text: string): TraceLine[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [at = "", cpu = "", component = "", pid = "", step = "", ...rest] = line.split(" ");
      return {
        atMs: Number(at),
        cpuMs: Number(cpu),
        component,
        pid: Number(pid),
        step,
        detail: rest.join(" "),
      };
    })
    .sort((a, b) => a.atMs - b.atMs);
}

/** Spawn to close of the output, and the epoch time of the spawn, for the trace's time line. */
function timeSpawn(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ spawnedAtMs: number; closedAtMs: number; out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const spawnedAtMs = performance.timeOrigin + performance.now();
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ spawnedAtMs, closedAtMs: performance.timeOrigin + performance.now(), out, code }),
    );
  });
}

/** The steps of one job, in ms from the spawn of its `submit`; undefined where not seen. */
type Steps = Record<string, number | undefined>;

const STEP_NAMES = [
  "cli process started",
  "cli modules loaded",
  "cli first request sent",
  "root promise created (answer)",
  "router got the task",
  "router acquired it",
  "execute promise created (router's first fence answered)",
  "worker got the execute task",
  "worker claimed it (acquire answered)",
  "attempt on record (answer)",
  "run started (record's startedAt)",
  "run ended (record's finishedAt)",
  "worker sends the result (task.fulfill)",
  "cli woke (unblock of the execute promise)",
  "cli exit",
  "output closed (as a shell sees it)",
] as const;

function stepsOf(
  lines: readonly TraceLine[],
  jobId: string,
  spawnedAtMs: number,
  closedAtMs: number,
  record: { startedAt: number | null; finishedAt: number | null } | undefined,
): { steps: Steps; requests: Record<string, number>; cliCpuMs: number | undefined } {
  const cli = lines.find((l) => l.component === "submit" && l.step === "loaded");
  const cliLines = lines.filter((l) => l.pid === cli?.pid);
  const at = (found: TraceLine | undefined): number | undefined =>
    found ? round1(found.atMs - spawnedAtMs) : undefined;
  const find = (component: string, step: string, detail: (d: string) => boolean) =>
    lines.find((l) => l.component === component && l.step === step && detail(l.detail));
  const execute = `${jobId}.execute`;
  const steps: Steps = {
    "cli process started": at(cliLines.find((l) => l.step === "start")),
    "cli modules loaded": at(cli),
    "cli first request sent": at(cliLines.find((l) => l.step === "send")),
    "root promise created (answer)": at(
      cliLines.find((l) => l.step === "answer" && l.detail.startsWith(`promise.create ${jobId} `)),
    ),
    "router got the task": at(find("router", "message", (d) => d === `execute ${jobId}`)),
    "router acquired it": at(
      find("router", "answer", (d) => d.startsWith(`task.acquire ${jobId} `)),
    ),
    "execute promise created (router's first fence answered)": at(
      find("router", "answer", (d) => d.startsWith(`task.fence ${jobId} `)),
    ),
    "worker got the execute task": at(find("worker", "message", (d) => d === `execute ${execute}`)),
    "worker claimed it (acquire answered)": at(
      find("worker", "answer", (d) => d.startsWith(`task.acquire ${execute} `)),
    ),
    "attempt on record (answer)": at(
      find("worker", "answer", (d) => d.startsWith(`promise.create ${jobId}.attempt-1 `)),
    ),
    "run started (record's startedAt)":
      record?.startedAt == null ? undefined : round1(record.startedAt - spawnedAtMs),
    "run ended (record's finishedAt)":
      record?.finishedAt == null ? undefined : round1(record.finishedAt - spawnedAtMs),
    "worker sends the result (task.fulfill)": at(
      find("worker", "send", (d) => d.startsWith(`task.fulfill ${execute}`)),
    ),
    "cli woke (unblock of the execute promise)": at(
      cliLines.find((l) => l.step === "message" && l.detail === `unblock ${execute}`),
    ),
    "cli exit": at(cliLines.find((l) => l.step === "exit")),
    "output closed (as a shell sees it)": round1(closedAtMs - spawnedAtMs),
  };
  const requests: Record<string, number> = {};
  for (const line of lines) {
    if (line.step !== "send") continue;
    const about = line.detail.split(" ")[1] ?? "";
    if (line.component !== "submit" && !about.startsWith(jobId)) continue;
    requests[line.component] = (requests[line.component] ?? 0) + 1;
  }
  const exit = cliLines.find((l) => l.step === "exit");
  return { steps, requests, cliCpuMs: exit?.cpuMs };
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return summarize(values).medianMs;
}

async function main(): Promise<void> {
  killStartedOnInterrupt();
  const root = await mkdtemp(path.join(tmpdir(), "modulate-bench-phases-"));
  const traceFile = path.join(root, "trace.log");
  // Inherited by every process the cluster starts: each traces its steps to the one file.
  process.env["MODULATE_TRACE"] = traceFile;
  const quietChecks: QuietCheck[] = [];
  let client: ModulateClient | undefined;
  try {
    if (!options["no-wait"]) await waitForQuiet("start-up", log);
    const loadBefore = loadavg()[0] ?? 0;
    const cluster = await startCluster("durable", root, {
      group: GROUP,
      slots: 2,
      python: options.python,
    });
    const python = workerPython(cluster.workers[0]);
    client = new ModulateClient({ url: cluster.server.url });
    const script = path.join(FIXTURES, "e2e-trivial.py");
    const submit = ["submit", script, "--group", GROUP, "--url", cluster.server.url];
    const plainEnv = { ...process.env, MODULATE_TRACE: "" };
    const rows: { steps: Steps; requests: Record<string, number>; cliCpuMs?: number }[] = [];
    const baselines = { node: [] as number[], python: [] as number[] };
    const measure = async (): Promise<void> => {
      for (let round = 0; round < RUNS + 2; round += 1) {
        const node = await timeSpawn(NODE, ["-e", "0"], plainEnv);
        const py = await timeSpawn(python, ["-I", "-c", "pass"], plainEnv);
        await writeFile(traceFile, "");
        const run = await timeSpawn(MODULATE, submit, process.env);
        if (run.code !== 0 || run.out !== "1\n")
          throw new Error(`submit exited ${String(run.code)} printing ${JSON.stringify(run.out)}`);
        // The worker's last steps (the attempt's settle) may come after the CLI's exit.
        await new Promise((resolve) => setTimeout(resolve, 150));
        const lines = parseTrace(await readFile(traceFile, "utf8"));
        const created = lines.find(
          (l) =>
            l.component === "submit" && l.step === "send" && l.detail.startsWith("promise.create "),
        );
        const jobId = created?.detail.split(" ")[1] ?? "";
        const view = await client!.getJob(jobId);
        if (round < 2) continue;
        baselines.node.push(node.closedAtMs - node.spawnedAtMs);
        baselines.python.push(py.closedAtMs - py.spawnedAtMs);
        const { steps, requests, cliCpuMs } = stepsOf(
          lines,
          jobId,
          run.spawnedAtMs,
          run.closedAtMs,
          view.result,
        );
        rows.push({ steps, requests, ...(cliCpuMs === undefined ? {} : { cliCpuMs }) });
      }
    };
    if (options["no-wait"]) await measure();
    else quietChecks.push((await measureQuietly("traced submissions", measure, log)).check);
    const loadAfter = loadavg()[0] ?? 0;
    const stepMedians = Object.fromEntries(
      STEP_NAMES.map((name) => [
        name,
        median(rows.flatMap((r) => (r.steps[name] === undefined ? [] : [r.steps[name]]))),
      ]),
    );
    const gaps = STEP_NAMES.slice(1).map((name, i) => {
      const before = STEP_NAMES[i];
      const each = rows.flatMap((r) => {
        const a = r.steps[before];
        const b = r.steps[name];
        return a === undefined || b === undefined ? [] : [b - a];
      });
      return { from: before, to: name, medianMs: median(each) };
    });
    const components = [...new Set(rows.flatMap((r) => Object.keys(r.requests)))];
    const requestsPerJob = Object.fromEntries(
      components.map((c) => [c, median(rows.map((r) => r.requests[c] ?? 0))]),
    );
    const nodeMs = median(baselines.node) ?? Number.NaN;
    const pythonMs = median(baselines.python) ?? Number.NaN;
    const total = stepMedians["output closed (as a shell sees it)"] ?? Number.NaN;
    const report = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown" },
      runs: RUNS,
      quietChecks,
      loadAverage1m: { before: round1(loadBefore), after: round1(loadAfter) },
      baselines: { nodeMedianMs: round1(nodeMs), pythonMedianMs: round1(pythonMs) },
      stepMediansMsFromSpawn: stepMedians,
      gapMediansMs: gaps,
      requestsPerJob,
      cliCpuMedianMs: median(rows.flatMap((r) => (r.cliCpuMs === undefined ? [] : [r.cliCpuMs]))),
      bar: {
        bar: "submit adds at most one node -e 0 to python alone (issue 17)",
        measured: `submit ${round1(total)} ms, python ${round1(pythonMs)} ms, node -e 0 ${round1(nodeMs)} ms: overhead ${round1(total - pythonMs)} ms = ${round1((total - pythonMs) / nodeMs)}x node -e 0`,
        pass: total - pythonMs <= nodeMs,
      },
    };
    await mkdir(path.dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
    log(
      `node -e 0 ${round1(nodeMs)} ms, python alone ${round1(pythonMs)} ms (medians, same rounds)`,
    );
    for (const name of STEP_NAMES)
      log(`${String(stepMedians[name] ?? "-").padStart(7)} ms  ${name}`);
    log("gaps (median of each run's gap):");
    for (const gap of gaps) log(`${String(gap.medianMs ?? "-").padStart(7)} ms  -> ${gap.to}`);
    log(`requests per job: ${JSON.stringify(requestsPerJob)}; CLI CPU ${report.cliCpuMedianMs} ms`);
    log(`${report.bar.measured}: ${report.bar.pass ? "pass" : "miss"}`);
    log(`wrote ${options.out}`);
  } finally {
    await client?.close();
    await stopStarted();
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}

await main();
