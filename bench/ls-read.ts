// Plain `ls`'s reads, in process: listJobs (plain, --limit 100) against a store of outstanding
// jobs newest and finished ones older (bench/lib/ops-fill.ts), with this checkout's src/ and
// with a base commit's (LSREAD_BASE, default the commit before this work), in turn, round by
// round, so that a shared machine's drift falls on both alike. Beside each: its requests by
// kind, and `node -e 0` timed in the same rounds as the baseline that figures are stated
// against. Bar: this checkout's median under the base's, with fewer requests; both stated.
//
//   node bench/ls-read.ts [outstanding] [finished]   (npm run bench:ls-read)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startServer } from "./lib/e2e-cluster.ts";
import { fillStore } from "./lib/ops-fill.ts";
import type { Send } from "../src/orchestration/wire/wire.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BASE = process.env["LSREAD_BASE"] ?? "ddeb028";
const OUTSTANDING = Number(process.argv[2] ?? 10_000);
const FINISHED = Number(process.argv[3] ?? 20_000);
const ROUNDS = 7;
const FILTER = { all: false, limit: 100 } as const;

type ListJobs = (send: Send, filter: typeof FILTER, now: number) => Promise<{ jobs: unknown[] }>;
interface Build {
  name: string;
  listJobs: ListJobs;
  requestSender: (o: { url: string }) => Send;
}

async function load(srcRoot: string, name: string): Promise<Build> {
  const at = (p: string) => pathToFileURL(join(srcRoot, p)).href;
  const list = (await import(at("src/orchestration/client/list.ts"))) as { listJobs: ListJobs };
  const wire = (await import(at("src/orchestration/wire/wire.ts"))) as Pick<Build, "requestSender">;
  return { name, listJobs: list.listJobs, requestSender: wire.requestSender };
}

/** The base commit's src/, beside this checkout's node_modules. */
function baseTree(): string {
  const dir = mkdtempSync(join(tmpdir(), "ls-read-base-"));
  execFileSync("sh", [
    "-c",
    `git -C "${ROOT}" archive "${BASE}" src package.json | tar -x -C "${dir}"`,
  ]);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const builds = [await load(baseTree(), `base ${BASE}`), await load(ROOT, "this checkout")];
  const dataDir = mkdtempSync(join(tmpdir(), "ls-read-data-"));
  const server = await startServer("durable", dataDir, ["--sync", "normal"]);
  try {
    const plan = { outstanding: OUTSTANDING, finished: FINISHED, group: "nobody", concurrency: 16 };
    const fill = await fillStore(server.url, plan, console.log);
    console.log(`filled ${fill.jobs} jobs in ${fill.seconds} s`);
    const times = new Map<string, number[]>(builds.map((b) => [b.name, []]));
    const requests = new Map<string, Record<string, number>>();
    const nodeTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      spawnSync(process.execPath, ["-e", "0"]);
      nodeTimes.push(performance.now() - t0);
      for (const build of builds) {
        const raw = build.requestSender({ url: server.url });
        const counts: Record<string, number> = {};
        const send: Send = (req) => {
          const data = req.data as { id?: string; state?: string; tags?: object };
          const kind =
            req.kind === "promise.get" && /\.attempt-\d+$/.test(data.id ?? "")
              ? "promise.get attempt"
              : req.kind === "promise.search" && data.state === "pending"
                ? "promise.search pending"
                : req.kind;
          counts[kind] = (counts[kind] ?? 0) + 1;
          return raw(req);
        };
        const started = performance.now();
        const listed = await build.listJobs(send, FILTER, Date.now());
        times.get(build.name)?.push(performance.now() - started);
        if (listed.jobs.length !== FILTER.limit) throw new Error(`${build.name}: short listing`);
        requests.set(build.name, counts);
      }
    }
    const nodeMs = median(nodeTimes);
    const results = builds.map((b) => {
      const ms = median(times.get(b.name) ?? []);
      const counts = requests.get(b.name) ?? {};
      const total = Object.values(counts).reduce((a, n) => a + n, 0);
      return {
        build: b.name,
        medianMs: r1(ms),
        ratioToNodeE0: r1(ms / nodeMs),
        requests: total,
        byKind: counts,
      };
    });
    const [base, mine] = results;
    const met = !!base && !!mine && mine.medianMs < base.medianMs && mine.requests < base.requests;
    const report = {
      bench: "ls-read",
      store: { outstanding: OUTSTANDING, finished: FINISHED },
      filter: FILTER,
      rounds: ROUNDS,
      nodeE0Ms: r1(nodeMs),
      results,
      bar: "this checkout's in-process listJobs median under the base's, with fewer requests",
      barMet: met,
      load: { before: loadBefore.map(r1), after: loadavg().map(r1) },
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(report, null, 2));
    writeFileSync(
      join(ROOT, "bench", "results", "ls-read.json"),
      `${JSON.stringify(report, null, 2)}\n`,
    );
  } finally {
    server.process.kill("SIGTERM");
    await server.process.exited();
  }
}

await main();
