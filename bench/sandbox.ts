// `npm run bench:sandbox`: what each layer of the sandbox adds to the start of a trivial job
// (a .sh script that exits at once), from a bare spawn to bwrap + cgroups + a job user.
// Median and p95 over --runs runs each; prints a table, writes bench/results/sandbox.json.
// Layers the host cannot provide (no root, no bwrap, no cgroups) are reported as skipped.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { JobCgroup } from "../src/sandbox/cgroup.ts";
import { CgroupSlots } from "../src/sandbox/cgroup-slots.ts";
import { runJob } from "../src/sandbox/run-job.ts";
import { setUpSandbox } from "../src/sandbox/probe.ts";
import type { SandboxConfig } from "../src/sandbox/types.ts";
import { BENCH_JOB_LIMITS } from "./lib/bench-limits.ts";

const { values: options } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    out: { type: "string", default: "bench/results/sandbox.json" },
  },
});
const RUNS = Number(options.runs);
const LIMITS = BENCH_JOB_LIMITS;
const SCRIPT = "exit 0\n";

interface Row {
  readonly layer: string;
  readonly runs: number;
  readonly medianMs?: number;
  readonly p95Ms?: number;
  readonly skipped?: string;
}

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function measure(layer: string, once: () => Promise<void>): Promise<Row> {
  await once(); // warm-up: page cache, first cgroup directory, first bwrap exec
  const timesMs: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    await once();
    timesMs.push(performance.now() - started);
  }
  timesMs.sort((a, b) => a - b);
  return {
    layer,
    runs: RUNS,
    medianMs: Number(percentile(timesMs, 0.5).toFixed(2)),
    p95Ms: Number(percentile(timesMs, 0.95).toFixed(2)),
  };
}

/** Runs the trivial job; with a cgroup in `config`, in `slotCgroup` as a worker lends one. */
function jobRunner(config: SandboxConfig, slotCgroup?: JobCgroup): () => Promise<void> {
  let count = 0;
  return async () => {
    count += 1;
    const outcome = await runJob(
      {
        jobId: `bench-${count}`,
        attempt: 1,
        scriptName: "trivial.sh",
        script: SCRIPT,
        ...(slotCgroup && config.cgroup ? { cgroup: slotCgroup } : {}),
      },
      config,
    );
    if (outcome.state !== "succeeded") throw new Error(`bench job failed: ${outcome.reason}`);
  };
}

/** The layers, each a config derived from the fullest one this host supports. */
function layers(full: SandboxConfig): [string, SandboxConfig | string][] {
  const { jobUser, cgroup } = full;
  const none: SandboxConfig = {
    mode: "none",
    defaultLimits: full.defaultLimits,
    interpreters: full.interpreters,
    networkAllowed: false,
    workRoot: full.workRoot,
    logDir: full.logDir,
    baseEnv: full.baseEnv,
  };
  const prlimit = full.prlimitPath ? { prlimitPath: full.prlimitPath } : undefined;
  const user = jobUser && full.setprivPath ? { jobUser, setprivPath: full.setprivPath } : undefined;
  const bwrap =
    full.mode === "bwrap" && full.bwrapPath
      ? { mode: "bwrap" as const, bwrapPath: full.bwrapPath }
      : undefined;
  return [
    ["runJob, no sandbox", none],
    ["+ rlimits (prlimit)", prlimit ? { ...none, ...prlimit } : "prlimit not found"],
    ["+ cgroup (memory, pids)", cgroup ? { ...none, cgroup } : "no writable cgroups (needs root)"],
    [
      "+ cgroup, made and removed per job",
      cgroup ? { ...none, cgroup } : "no writable cgroups (needs root)",
    ],
    ["+ user switch (setpriv)", user ? { ...none, ...user } : "no job user (needs root)"],
    ["+ bwrap", bwrap ? { ...none, ...bwrap } : "bwrap does not work here"],
    ["all of them", full],
  ];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "modulate-bench-"));
  // mkdtemp makes it 0700; the job user must pass through it to its own directory.
  await chmod(dir, 0o711);
  try {
    const isRoot = process.getuid?.() === 0;
    const { config, notes } = await setUpSandbox({
      sandbox: "auto",
      ...(isRoot ? { runAs: "modulate-bench" } : {}),
      cgroups: isRoot,
      defaultLimits: LIMITS,
      workRoot: path.join(dir, "work"),
      logDir: path.join(dir, "logs"),
      env: { PATH: "/usr/bin:/bin" },
    });

    const rows: Row[] = [];
    const script = path.join(dir, "trivial.sh");
    await writeFile(script, SCRIPT);
    rows.push(
      await measure("bare spawn (execa bash)", async () => {
        await execa("/usr/bin/bash", [script]);
      }),
    );
    // As a worker does: one cgroup per slot, reused by each job.
    const slots = config.cgroup
      ? await CgroupSlots.make(config.cgroup, 1, config.defaultLimits, config.logDir)
      : undefined;
    const slotCgroup = slots?.take();
    try {
      for (const [layer, layerConfig] of layers(config)) {
        const perJob = layer.includes("per job");
        if (typeof layerConfig === "string") rows.push({ layer, runs: 0, skipped: layerConfig });
        else
          rows.push(await measure(layer, jobRunner(layerConfig, perJob ? undefined : slotCgroup)));
      }
    } finally {
      await slots?.close();
    }

    const width = Math.max(...rows.map((row) => row.layer.length));
    console.log(`sandbox start cost, trivial .sh job, ${RUNS} runs each (${cpus().length} CPUs)`);
    for (const note of notes) console.log(`  ${note}`);
    console.log(`${"layer".padEnd(width)}  median ms    p95 ms`);
    for (const row of rows) {
      const cells = row.skipped
        ? `skipped: ${row.skipped}`
        : `${String(row.medianMs).padStart(9)}  ${String(row.p95Ms).padStart(8)}`;
      console.log(`${row.layer.padEnd(width)}  ${cells}`);
    }
    await mkdir(path.dirname(options.out), { recursive: true });
    await writeFile(
      options.out,
      `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, runs: RUNS, notes, rows }, null, 2)}\n`,
    );
    console.log(`wrote ${options.out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
