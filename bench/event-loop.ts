// `npm run bench:event-loop`: how long the server's front (the thread that serves sockets,
// polls and /health) holds still while 8 MB values are created and read back (issue 12,
// item 5). The server runs in this process with a 1 ms timer probe on its main thread; the
// requests come from a child process, so the client's own work is not counted. Each mode is
// compared with JSON.parse of the same body timed in the same run. Writes
// bench/results/event-loop.json.
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../src/server/server.ts";

const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const outPath = fileURLToPath(new URL("results/event-loop.json", import.meta.url));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function parseCostMs(): number {
  const data = Buffer.alloc(6 * 1024 * 1024, 1).toString("base64");
  const text = JSON.stringify({ kind: "promise.create", data: { param: { data } } });
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const startedAt = performance.now();
    JSON.parse(text);
    times.push(performance.now() - startedAt);
  }
  return percentile(times, 0.5);
}

/** Runs the client process for `rounds` creates and reads; resolves with each request's time. */
function runClient(url: string, rounds: number): Promise<number[]> {
  const client = fork(fileURLToPath(new URL("lib/big-value-client.ts", import.meta.url)), [
    url,
    String(rounds),
  ]);
  return new Promise<number[]>((resolve, reject) => {
    client.once("message", (message) => resolve(message as number[]));
    client.once("error", reject);
  });
}

async function measure(mode: "engine thread" | "one thread"): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), "modulate-bench-loop-"));
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir,
    // An injected clock keeps the engine on this thread (server.ts): the old layout.
    ...(mode === "one thread" ? { clock: Date.now } : {}),
  });
  // One round first, not measured: the first request of a thread compiles the code it runs.
  await runClient(server.url, 1);
  // Each gap between two ticks is measured twice: on the wall clock, and in CPU time this
  // thread spent in it. With two cores and three busy threads (the client, the engine, this
  // one) the OS also takes this thread off its core: a long gap with little CPU in it is that,
  // while CPU spent in one gap is work that held the loop.
  const lags: number[] = [];
  const busyMs: number[] = [];
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  const probe = setInterval(() => {
    const now = performance.now();
    const cpu = process.threadCpuUsage();
    lags.push(Math.max(0, now - last - 1));
    busyMs.push((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000);
    last = now;
    lastCpu = cpu;
  }, 1);
  const requestMs = await runClient(server.url, ROUNDS);
  clearInterval(probe);
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  return {
    rounds: ROUNDS,
    lagMaxMs: Math.max(...lags),
    lagP99Ms: percentile(lags, 0.99),
    lagOver5MsCount: lags.filter((lag) => lag > 5).length,
    busyMaxMs: Math.max(...busyMs),
    busyP99Ms: percentile(busyMs, 0.99),
    requestMedianMs: percentile(requestMs, 0.5),
  };
}

const parseMs = parseCostMs();
const results = {
  when: new Date().toISOString(),
  jsonParseOfBodyMs: parseMs,
  "engine thread": await measure("engine thread"),
  "one thread": await measure("one thread"),
};
for (const mode of ["engine thread", "one thread"] as const) {
  const r = results[mode];
  console.log(
    `${mode.padEnd(14)} longest gap ${r["lagMaxMs"]?.toFixed(1)} ms (p99 ${r["lagP99Ms"]?.toFixed(1)}, ${r["lagOver5MsCount"]} over 5 ms); most CPU in one gap ${r["busyMaxMs"]?.toFixed(1)} ms (${((r["busyMaxMs"] ?? 0) / parseMs).toFixed(1)}x JSON.parse of the body, ${parseMs.toFixed(1)} ms; p99 ${r["busyP99Ms"]?.toFixed(1)}); an 8 MB request takes ${r["requestMedianMs"]?.toFixed(0)} ms`,
  );
}
writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
