// `node bench/engine-cpu.ts`: the embedded server's engine alone (state machine, store, group
// commit, the WAL's fsyncs; no HTTP, no thread hand-off) in this process, CPU per job-like op,
// against another source tree's (`--baseline DIR`, a `git archive` of an earlier commit with
// node_modules linked in) in alternation. Finer than bench:server-cpu for changes to the store:
// its noise is the sockets' and the threads' too. One op is what a job's task costs the server:
// task.create with a job's tags and a 1 kB script, promise.get, then task.fulfill; three ops in flight at once, as a router and two workers send them.
// Options: --ops N (3000), --rounds N (3), --baseline DIR, --out FILE (bench/results/engine-cpu.json).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const HERE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const VERSION = "2026-04-01";
const WARMUP_OPS = 300;
const CONCURRENCY = 3;
const BAR_RATIO = 1.0;

interface Answer {
  status: number;
  body: Uint8Array | string;
}
interface EngineModule {
  Engine: new (o: { store: unknown; clock: () => number; onMessages: (m: unknown[]) => void }) => {
    stop(): void;
  };
}
interface StoreModule {
  SqliteStore: new (o: { path: string; sync?: "full" | "normal" }) => { close(): Promise<void> };
}
interface ApiModule {
  answerApiBody: (bytes: Uint8Array, engine: unknown, auth: undefined) => Promise<Answer>;
}

const SCRIPT = "print('ok')\n".repeat(85);

async function measure(root: string, ops: number): Promise<number> {
  const load = async <T>(file: string): Promise<T> =>
    (await import(pathToFileURL(join(root, "src/server", file)).href)) as T;
  const { Engine } = await load<EngineModule>("engine.ts");
  const { SqliteStore } = await load<StoreModule>("store.ts");
  const { answerApiBody } = await load<ApiModule>("api-request.ts");
  const dir = await mkdtemp(join(tmpdir(), "modulate-bench-engine-"));
  const store = new SqliteStore({ path: join(dir, "store.db"), sync: "full" });
  const engine = new Engine({ store, clock: Date.now, onMessages: () => {} });
  const run = `${process.pid}-${Date.now()}`;
  const send = async (kind: string, corrId: string, data: unknown): Promise<unknown> => {
    const body = new TextEncoder().encode(
      JSON.stringify({ kind, head: { corrId, version: VERSION }, data }),
    );
    const answer = await answerApiBody(body, engine, undefined);
    const text =
      typeof answer.body === "string" ? answer.body : Buffer.from(answer.body).toString();
    const parsed = JSON.parse(text) as { head: { status: number }; data: unknown };
    if (parsed.head.status !== 200) throw new Error(`${kind} answered ${text.slice(0, 200)}`);
    return parsed.data;
  };
  const op = async (at: number): Promise<void> => {
    const id = `bench-${run}-${at}`;
    const head = { corrId: `${id}:a`, version: VERSION };
    const tags = {
      "resonate:target": "poll://any@cpu",
      "modulate:kind": "job",
      "modulate:group": "cpu",
      "modulate:sweep": `sweep-${run}`,
    };
    await send("task.create", `${id}:c`, {
      pid: "bench-pid",
      ttl: 60_000,
      action: {
        kind: "promise.create",
        head,
        data: { id, timeoutAt: Date.now() + 3_600_000, param: { data: SCRIPT }, tags },
      },
    });
    await send("promise.get", `${id}:g`, { id });
    await send("task.fulfill", `${id}:f`, {
      id,
      version: 1,
      action: {
        kind: "promise.settle",
        head,
        data: { id, state: "resolved", value: { data: "done" } },
      },
    });
  };
  let next = 0;
  const batch = async (count: number): Promise<void> => {
    const end = next + count;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < end) await op(next++);
      }),
    );
  };
  try {
    await batch(WARMUP_OPS);
    const before = process.cpuUsage();
    await batch(ops);
    const spent = process.cpuUsage(before);
    return Math.round((spent.user + spent.system) / ops);
  } finally {
    engine.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "3000" },
    rounds: { type: "string", default: "3" },
    baseline: { type: "string" },
    out: { type: "string", default: "bench/results/engine-cpu.json" },
  },
});
const ops = Number(values.ops);
const trees: [string, string][] = [["this checkout", HERE_ROOT]];
if (values.baseline !== undefined) trees.push(["baseline", values.baseline]);
const loadBefore = loadavg()[0] ?? 0;
const samples = new Map<string, number[]>(trees.map(([name]) => [name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, root] of trees) {
    const us = await measure(root, ops);
    samples.get(name)?.push(us);
    console.log(`[bench:engine-cpu] ${name}, round ${round + 1}: ${us} µs of CPU an op`);
  }
}
const ours = median(samples.get("this checkout") ?? []);
const baseList = samples.get("baseline");
const base = baseList === undefined ? undefined : median(baseList);
const ratio = base === undefined ? undefined : Math.round((ours / base) * 100) / 100;
if (ratio !== undefined)
  console.log(`[bench:engine-cpu] ${ours} µs an op against ${base} µs: ${ratio}x`);
const report = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, model: cpus()[0]?.model ?? "unknown" },
  settings: { ops, warmupOps: WARMUP_OPS, concurrency: CONCURRENCY, rounds: Number(values.rounds) },
  op: "task.create (job tags, 1 kB param), promise.get, task.fulfill",
  baseline: values.baseline ?? null,
  load: {
    before: Math.round(loadBefore * 10) / 10,
    after: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  },
  cpuUsPerOp: Object.fromEntries(
    [...samples].map(([name, list]) => [name, { median: median(list), rounds: list }]),
  ),
  ...(ratio === undefined
    ? {}
    : {
        ratio,
        bar: { wanted: `CPU an op at most ${BAR_RATIO}x the baseline's`, met: ratio <= BAR_RATIO },
      }),
};
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${values.out}`);
