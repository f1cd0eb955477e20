// One size of `npm run bench:ui`, in a process of its own (bundled by bench/ui.ts, run with
// --expose-gc): the real dashboard (src/app.tsx, its reducer and views) rendered by Ink to a
// stand-in terminal, fed N outstanding jobs by a stand-in client. Measures the frame after a
// refresh of N jobs, the frame after a key press (j: the selection moves), and the heap the
// dashboard holds with N jobs loaded; and, in the same process, JSON.parse of the same records
// to compare with. Prints one JSON line.
import { EventEmitter } from "node:events";
import { render } from "ink";
import { App } from "../../src/app.tsx";
import type { ListedJob, ListedStage } from "../../src/orchestration/client/list.ts";
import type { WorkerView } from "../../src/orchestration/presence.ts";
import type { DashboardSource } from "../../src/ui/data-source.ts";

const COLUMNS = 120;
const ROWS = 40;
const KEY_PRESSES = 80;
const REFRESHES = 30;
/** The first of each are not counted: the code they run is still being compiled. */
const WARM_UP = 5;

const count = Number(process.argv[2] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] ?? 0;
}

const GROUPS = ["cpu", "gpu", "a100", "h100", "big-mem", "io", "batch", "dev"];
const STAGES: ListedStage[] = ["running", "queued", "queued", "routing", "running"];

/** N outstanding jobs as `list` answers them: newest first, in every outstanding step. */
function outstandingJobs(n: number, now: number): ListedJob[] {
  return Array.from({ length: n }, (_, i): ListedJob => {
    const stage = STAGES[i % STAGES.length] ?? "queued";
    const group = GROUPS[i % GROUPS.length] ?? "cpu";
    const pid = `${group}-host${i % 40}-${1000 + (i % 97)}`;
    return {
      id: `job-${(now - i * 1000).toString(36)}-${(i * 2654435761).toString(16).slice(-8)}`,
      group,
      state: stage === "running" ? "running" : "pending",
      reason:
        stage === "queued"
          ? `every slot of group ${group} is busy; queued behind ${i % 50}`
          : stage === "routing"
            ? "waiting for a router to route it"
            : `running on host${i % 40} (${pid})`,
      exitCode: null,
      stdout: "",
      stderr: "",
      durationMs: 0,
      worker: stage === "running" ? { host: `host${i % 40}`, pid, group } : null,
      attempt: stage === "routing" ? 0 : 1,
      submittedAt: now - i * 1000,
      startedAt: stage === "running" ? now - i * 500 : null,
      finishedAt: null,
      script: `train-${i % 13}.py`,
      stage,
    };
  });
}

function workersOf(n: number): WorkerView[] {
  return Array.from({ length: Math.min(200, Math.max(4, Math.ceil(n / 50))) }, (_, i) => ({
    group: GROUPS[i % GROUPS.length] ?? "cpu",
    pid: `w-${i}`,
    host: `host${i % 40}`,
    slots: 50,
    busy: 25,
    startedAt: 0,
    jobs: [],
  }));
}

/** The wall clock, and the CPU time of this thread (the one that renders), in milliseconds. */
interface Clocks {
  wall: number;
  cpu: number;
}

function clocks(): Clocks {
  const { user, system } = process.threadCpuUsage();
  return { wall: performance.now(), cpu: (user + system) / 1000 };
}

/** A terminal for Ink: a TTY of COLUMNS x ROWS that notes when each frame is written. */
class Screen extends EventEmitter {
  readonly isTTY = true;
  readonly columns = COLUMNS;
  readonly rows = ROWS;
  last = "";
  readonly written: Clocks[] = [];
  write = (frame: string): boolean => {
    this.written.push(clocks());
    this.last = frame;
    return true;
  };
  /** When the first frame after `since` was written, once one is. */
  async frameAfter(since: Clocks): Promise<Clocks> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const at = this.written.find((t) => t.wall >= since.wall);
      if (at !== undefined) return at;
      if (Date.now() > deadline) throw new Error("no frame came");
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

class Keys extends EventEmitter {
  readonly isTTY = true;
  #data: string | null = null;
  write(data: string): void {
    this.#data = data;
    this.emit("readable");
    this.emit("data", data);
  }
  read = (): string | null => {
    const data = this.#data;
    this.#data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

async function main(): Promise<void> {
  const now = Date.now();
  const jobs = outstandingJobs(count, now);
  const workers = workersOf(count);

  // The yardstick: JSON.parse of the same records, as a client reads them off the wire.
  const text = JSON.stringify(jobs);
  const parses: number[] = [];
  for (let i = 0; i < 9; i++) {
    const startedAt = performance.now();
    JSON.parse(text);
    parses.push(performance.now() - startedAt);
  }
  const heapBefore = heapMb();
  const parsedKeep = JSON.parse(text) as unknown;
  const parsedHeapMb = heapMb() - heapBefore;
  void parsedKeep;

  let listedAt: Clocks | undefined;
  const source = {
    // Each refresh answers new objects, as a real listing does: nothing is shared with the last.
    list: () => {
      const fresh = jobs.map((j) => ({ ...j }));
      listedAt = clocks();
      return Promise.resolve({ jobs: fresh, more: 0 });
    },
    workers: () => Promise.resolve(workers),
  } as unknown as DashboardSource;

  const screen = new Screen();
  const keys = new Keys();
  const heapEmpty = heapMb();
  const instance = render(
    <App
      source={source}
      url="http://bench"
      refreshMs={3_600_000}
      color
      size={{ columns: COLUMNS, rows: ROWS }}
      copy={() => undefined}
    />,
    {
      stdout: screen as unknown as NodeJS.WriteStream,
      stderr: screen as unknown as NodeJS.WriteStream,
      stdin: keys as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  // Until the first load has shown its rows.
  const loadDeadline = Date.now() + 30_000;
  while (!screen.last.includes("WORKER/REASON")) {
    if (Date.now() > loadDeadline) throw new Error(`no jobs on screen:\n${screen.last}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Key listeners attach in an effect: press until the selection moves.
  while (!screen.last.includes("row 2 of")) {
    keys.write("j");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  // Refreshes (r): from the listing's answer to the frame that shows it.
  const refreshes: Clocks[] = [];
  for (let i = 0; i < REFRESHES; i++) {
    const before = listedAt;
    keys.write("r");
    while (listedAt === before) await new Promise((resolve) => setImmediate(resolve));
    const answered = listedAt ?? clocks();
    const shown = await screen.frameAfter(answered);
    if (i >= WARM_UP)
      refreshes.push({ wall: shown.wall - answered.wall, cpu: shown.cpu - answered.cpu });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  // Key presses: j or k moves the selection a row; from the press to the frame written.
  const presses: Clocks[] = [];
  for (let i = 0; i < KEY_PRESSES; i++) {
    const pressedAt = clocks();
    keys.write(i % 2 === 0 ? "j" : "k");
    const shown = await screen.frameAfter(pressedAt);
    if (i >= WARM_UP)
      presses.push({ wall: shown.wall - pressedAt.wall, cpu: shown.cpu - pressedAt.cpu });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const heapLoaded = heapMb();
  const lines = screen.last.split("\n");
  const jobLines = lines.filter((line) => line.includes(" job-")).length;
  instance.unmount();

  const parseMs = median(parses);
  const wall = (list: Clocks[]) => list.map((c) => c.wall);
  const cpu = (list: Clocks[]) => list.map((c) => c.cpu);
  const report = {
    jobs: count,
    jsonBytes: text.length,
    jsonParseMs: parseMs,
    refreshFrameMs: median(wall(refreshes)),
    refreshFrameP95Ms: p95(wall(refreshes)),
    refreshFrameCpuMs: median(cpu(refreshes)),
    refreshFrameCpuP95Ms: p95(cpu(refreshes)),
    keyFrameMs: median(wall(presses)),
    keyFrameP95Ms: p95(wall(presses)),
    keyFrameCpuMs: median(cpu(presses)),
    keyFrameCpuP95Ms: p95(cpu(presses)),
    refreshFrameVsParse: median(wall(refreshes)) / parseMs,
    keyFrameVsParse: median(wall(presses)) / parseMs,
    heapWithJobsMb: heapLoaded - heapEmpty,
    heapOfParsedRecordsMb: parsedHeapMb,
    rowsRendered: jobLines,
    frameLines: lines.length,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
