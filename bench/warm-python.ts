// `npm run bench:warm-python`: what a warm python (src/sandbox/warm-python.ts) takes off a
// job's path in the sandbox itself, without the network's noise: the same trivial .py job run
// by the sandbox runner through a slot whose standby is a shell (python started per job) and
// through one whose standby is a warm python, interleaved round by round with `python3 -I -c
// pass` alone, so that a shared machine's drift falls on all three alike. Each job's time is
// from its arrival at the runner to its outcome. Writes bench/results/warm-python.json with
// the load before and after and whether the bar was met: the warm job at least half a python
// start (python alone's median) faster than the shell's. Options: --runs N (default 40),
// --out FILE, --sandbox bwrap|none.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { JobSpec } from "../src/orchestration/jobs/job.ts";
import { sandboxRunner } from "../src/orchestration/sandbox-runner.ts";
import { CgroupSlots } from "../src/sandbox/cgroup-slots.ts";
import { setUpSandbox, type SandboxChoice } from "../src/sandbox/probe.ts";
import { sandboxStandbys } from "../src/sandbox/standby-sandbox.ts";
import { BENCH_JOB_LIMITS } from "./lib/bench-limits.ts";
import { measureQuietly, type QuietCheck } from "./lib/e2e-quiet.ts";
import { round1, summarize } from "./lib/e2e-stats.ts";

const { values: options } = parseArgs({
  options: {
    runs: { type: "string", default: "40" },
    out: { type: "string", default: "bench/results/warm-python.json" },
    sandbox: { type: "string", default: "bwrap" },
  },
});
const RUNS = Number(options.runs);
const WARMUPS = 3;
/** Between rounds: the slots' next standbys are made while the slot is idle, as a person's. */
const IDLE_MS = 150;
const LIMITS = BENCH_JOB_LIMITS;

function log(line: string): void {
  console.log(`[bench:warm-python] ${line}`);
}

function timeSpawn(file: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve(performance.now() - started));
  });
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), "modulate-bench-warm-"));
  await chmod(root, 0o711);
  const made: CgroupSlots[] = [];
  try {
    const { config } = await setUpSandbox({
      sandbox: options.sandbox as SandboxChoice,
      defaultLimits: LIMITS,
      networkAllowed: false,
      workRoot: path.join(root, "work"),
      logDir: path.join(root, "logs"),
      env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
    });
    const python = config.interpreters.python?.path;
    if (!config.cgroup || !python) {
      throw new Error("bench:warm-python needs cgroups (run as root) and a python3: standbys");
    }
    await mkdir(config.workRoot, { recursive: true });
    const runnerFor = async (warmPython: boolean) => {
      const slots = await CgroupSlots.make(config.cgroup!, 1, LIMITS, config.logDir);
      made.push(slots);
      slots.useStandbys(
        sandboxStandbys({ config, scratchDir: config.logDir, gpus: false, warmPython }),
      );
      const starts: string[] = [];
      const runner = sandboxRunner(config, {
        cgroups: slots,
        observer: { launched: (_spec, _s, start) => starts.push(start), ended: () => undefined },
      });
      return { runner, starts };
    };
    const shell = await runnerFor(false);
    const warm = await runnerFor(true);
    let count = 0;
    const timeJob = async (runner: typeof shell.runner): Promise<number> => {
      count += 1;
      const spec: JobSpec = {
        id: `bench-warm-${process.pid}-${count}`,
        group: "g",
        script: { name: "trivial.py", content: "print(1)\n" },
        args: [],
        timeoutMs: 30_000,
        mode: "wait",
        submittedAt: Date.now(),
      };
      const started = performance.now();
      const outcome = await runner.run(spec, 1, new AbortController().signal);
      if (outcome.state !== "succeeded") throw new Error(`job failed: ${outcome.reason}`);
      return performance.now() - started;
    };
    const idle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const loadBefore = loadavg();
    const quietChecks: QuietCheck[] = [];
    const { result, check } = await measureQuietly(
      "interleaved rounds",
      async () => {
        const alone: number[] = [];
        const inShell: number[] = [];
        const inWarm: number[] = [];
        for (let round = 0; round < WARMUPS + RUNS; round += 1) {
          const a = await timeSpawn(python, ["-I", "-c", "pass"]);
          await idle();
          const s = await timeJob(shell.runner);
          await idle();
          const w = await timeJob(warm.runner);
          await idle();
          if (round < WARMUPS) continue;
          alone.push(a);
          inShell.push(s);
          inWarm.push(w);
        }
        return { alone, inShell, inWarm };
      },
      log,
    );
    quietChecks.push(check);
    const loadAfter = loadavg();
    const alone = summarize(result.alone);
    const inShell = summarize(result.inShell);
    const inWarm = summarize(result.inWarm);
    const savedMs = round1(inShell.medianMs - inWarm.medianMs);
    const report = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown" },
      load: { before: loadBefore, after: loadAfter },
      quietChecks,
      sandbox: config.mode,
      python,
      runs: RUNS,
      pythonAlone: alone,
      jobWithShellStandby: inShell,
      jobWithWarmPython: inWarm,
      launches: { shell: countOf(shell.starts), warm: countOf(warm.starts) },
      savedMs,
      savedAsShareOfPythonAlone: Math.round((savedMs / alone.medianMs) * 100) / 100,
      warmOverPythonAlone: Math.round((inWarm.medianMs / alone.medianMs) * 100) / 100,
      shellOverPythonAlone: Math.round((inShell.medianMs / alone.medianMs) * 100) / 100,
      bar: {
        text: "a warm python takes at least half a python start (python alone's median) off a job",
        met: savedMs >= alone.medianMs / 2,
      },
    };
    await mkdir(path.dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
    log(
      `python alone ${alone.medianMs} ms; job with a shell standby ${inShell.medianMs} ms (${report.shellOverPythonAlone}x), with a warm python ${inWarm.medianMs} ms (${report.warmOverPythonAlone}x): ${savedMs} ms saved = ${report.savedAsShareOfPythonAlone} of python alone; bar ${report.bar.met ? "met" : "missed"}; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")} -> ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
    );
    console.log(`wrote ${options.out}`);
  } finally {
    for (const slots of made) await slots.close();
    await rm(root, { recursive: true, force: true });
  }
}

function countOf(starts: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const start of starts) counts[start] = (counts[start] ?? 0) + 1;
  return counts;
}

await main();
