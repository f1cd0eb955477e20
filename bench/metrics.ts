// `npm run bench:metrics`: what counting a request for `/metrics` adds to the server's main
// thread, beside what answering it already costs there (the envelope's JSON and bytes, timed in
// the same run), and how long one scrape's text takes. Writes bench/results/metrics.json.
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { ServerMetrics } from "../src/server/metrics.ts";

const CALLS = 300_000;
const KINDS = [
  "promise.create",
  "promise.get",
  "promise.settle",
  "promise.search",
  "task.acquire",
  "task.fulfill",
  "task.heartbeat",
  "task.release",
];
const STATUSES = [200, 201, 404, 409];

const ROUNDS = 7;

/** The median over ROUNDS of the mean time of one call: the machine is shared, so one round lies. */
function nsPerCall(calls: number, fn: (i: number) => void): number {
  for (let i = 0; i < calls / 10; i += 1) fn(i); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    const began = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) fn(i);
    rounds.push(Number(process.hrtime.bigint() - began) / calls);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? 0;
}

const metrics = new ServerMetrics({
  storeStats: () =>
    Promise.resolve({
      pendingPromises: 0,
      pendingTasks: 0,
      acquiredTasks: 0,
      commits: 0,
      fsyncs: 0,
      fsyncSeconds: 0,
    }),
  databasePath: ":memory:",
});
let sink = 0;
const encodeNs = nsPerCall(CALLS, (i) => {
  const kind = KINDS[i % KINDS.length] ?? "";
  const body = Buffer.from(
    JSON.stringify({
      kind,
      head: { corrId: String(i), status: 200, version: "2026-04-01" },
      data: { promise: { id: `job/${i}`, state: "pending" } },
    }),
    "utf8",
  );
  sink += body.byteLength;
});
const countNs = nsPerCall(CALLS, (i) => {
  metrics.answered(
    KINDS[i % KINDS.length] ?? "",
    STATUSES[i % STATUSES.length] ?? 200,
    (i % 1000) / 1e5,
  );
});
const scrapes = 200;
const scrapeBegan = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < scrapes; i += 1) bytes = (await metrics.exposition()).length;
const scrapeMs = Number(process.hrtime.bigint() - scrapeBegan) / scrapes / 1e6;

const result = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpu: cpus()[0]?.model ?? "unknown" },
  calls: CALLS,
  encodeEnvelopeNsPerRequest: Math.round(encodeNs),
  countRequestNsPerRequest: Math.round(countNs),
  countToEncodeRatio: Math.round((countNs / encodeNs) * 100) / 100,
  scrape: {
    series: KINDS.length * STATUSES.length,
    textBytes: bytes,
    msPerScrape: Math.round(scrapeMs * 1000) / 1000,
  },
};
console.log(
  `counting a request: ${result.countRequestNsPerRequest} ns, ${result.countToEncodeRatio}x the ${result.encodeEnvelopeNsPerRequest} ns of encoding a small answer envelope (same run)`,
);
console.log(
  `one scrape (${result.scrape.series} request series, ${bytes} bytes): ${result.scrape.msPerScrape} ms`,
);
writeFileSync(
  new URL("./results/metrics.json", import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
if (sink < 0) console.log(sink);
