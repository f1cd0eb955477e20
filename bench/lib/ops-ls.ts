// Part 1: `modulate ls` from the CLI against a full store, beside `modulate --version` timed in
// the same rounds (one of each command per round, in turn), so that the difference is ls's own
// work and not a drift of a shared machine. Then, in-process, where ls's time goes: the same
// requests ls sends, timed one kind at a time. A failed run (ls gives up on a request after
// 10 s) is kept with its time and its message: at the sizes that is the finding.
import { TAG, attemptId } from "../../src/orchestration/jobs/names.ts";
import { round1, summarize, type Summary } from "./e2e-stats.ts";
import { processCpu } from "./e2e-cpu.ts";
import { sleep, timeCommand } from "./ops-spawn.ts";
import { ProtocolClient } from "./protocol-client.ts";

export interface LsCommand {
  readonly name: string;
  readonly args: readonly string[];
}

export interface LsFigures extends Summary {
  readonly command: string;
  /** Median over --version's median. */
  readonly overVersionMs: number;
  readonly ratioToVersion: number;
  /** Rows printed (the table's header left out) by the last run that succeeded. */
  readonly rows: number;
  /** Runs that exited other than 0 (their time is kept: it is what the user waited). */
  readonly failedRuns: number;
  /** The first failure's message, if any. */
  readonly failure?: string;
  /** Set when the runs were cut short: a run took longer than `GIVE_UP_MS`. */
  readonly gaveUp: boolean;
}

export interface LsBreakdown {
  /** The searches of every pending execute and root promise, page by page (1,000 a page). */
  readonly pendingSearchesMs: number;
  readonly pendingPages: number;
  /** The same with settled ones too, as --all sends them. */
  readonly allSearchesMs: number;
  readonly allPages: number;
  /** One queued job's attempt look-up (promise.get, then a tag search when none): medians. */
  readonly attemptSamples: number;
  readonly oneAttemptGetMs: number;
  readonly oneAttemptSearchMs: number;
  /** What ls's look-ups for the 100 jobs it shows by default cost the server, one after another. */
  readonly hundredLookupsMs: number;
}

export interface LsReport {
  readonly runs: number;
  readonly version: Summary;
  readonly commands: readonly LsFigures[];
  readonly breakdown: LsBreakdown;
}

export const LS_COMMANDS: readonly LsCommand[] = [
  { name: "ls", args: ["ls"] },
  { name: "ls --limit 20", args: ["ls", "--limit", "20"] },
  { name: "ls --all --limit 20", args: ["ls", "--all", "--limit", "20"] },
];

/** A command slower than this once is run no more: its figure is clear, and runs add minutes. */
const GIVE_UP_MS = 20_000;
/** A failed ls leaves its requests queued on the server: wait until the server is idle. */
const IDLE_SERVER_SHARE = 0.1;
const IDLE_WAIT_MAX_MS = 10 * 60_000;

/** Waits until `pid` uses under 10% of a core over a second (or 10 minutes passed). */
async function serverIdle(pid: number): Promise<void> {
  const deadline = performance.now() + IDLE_WAIT_MAX_MS;
  while (performance.now() < deadline) {
    const before = processCpu(pid);
    await sleep(1_000);
    const after = processCpu(pid);
    if (!before || !after) return;
    if (after.ownMs - before.ownMs < IDLE_SERVER_SHARE * 1_000) return;
  }
}

export async function measureLs(
  modulate: string,
  url: string,
  serverPid: number,
  runs: number,
  log: (line: string) => void,
): Promise<LsReport> {
  const version: number[] = [];
  const samples = new Map<string, number[]>(LS_COMMANDS.map((c) => [c.name, []]));
  const failures = new Map<string, string[]>(LS_COMMANDS.map((c) => [c.name, []]));
  const rows = new Map<string, number>();
  const givenUp = new Set<string>();
  // One warm-up of --version (V8's compile cache) and of the quickest ls (the page cache).
  await timeCommand(modulate, ["--version"]);
  await timeCommand(modulate, ["ls", "--limit", "1", "--url", url]);
  await serverIdle(serverPid);
  for (let round = 1; round <= runs; round += 1) {
    const v = await timeCommand(modulate, ["--version"]);
    if (v.code !== 0) throw new Error(`modulate --version exited ${v.code}: ${v.stderr}`);
    version.push(v.ms);
    for (const c of LS_COMMANDS) {
      if (givenUp.has(c.name)) continue;
      const run = await timeCommand(modulate, [...c.args, "--url", url]);
      samples.get(c.name)?.push(run.ms);
      if (run.code === 0) rows.set(c.name, run.stdout.trimEnd().split("\n").length - 1);
      else failures.get(c.name)?.push(`exit ${run.code}: ${run.stderr.trim().slice(0, 300)}`);
      log(`ls: round ${round}: ${c.name} ${Math.round(run.ms)} ms (exit ${run.code})`);
      if (run.ms > GIVE_UP_MS) givenUp.add(c.name);
      await serverIdle(serverPid);
    }
  }
  const versionSummary = summarize(version);
  const commands = LS_COMMANDS.map((c): LsFigures => {
    const s = summarize(samples.get(c.name) ?? []);
    const failed = failures.get(c.name) ?? [];
    return {
      command: `modulate ${c.name}`,
      ...s,
      overVersionMs: round1(s.medianMs - versionSummary.medianMs),
      ratioToVersion: round1(s.medianMs / versionSummary.medianMs),
      rows: rows.get(c.name) ?? 0,
      failedRuns: failed.length,
      ...(failed[0] === undefined ? {} : { failure: failed[0] }),
      gaveUp: givenUp.has(c.name),
    };
  });
  log("ls: where the time goes, request by request");
  return { runs, version: versionSummary, commands, breakdown: await breakdown(url) };
}

/** Queued jobs whose attempt look-up is timed alone. */
const ATTEMPT_SAMPLES = 5;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: round1(performance.now() - started), result };
}

type Found = { promises: { id: string; tags: Record<string, string> }[]; cursor?: string };

/** ls's searches, as list.ts sends them; answers how many pages and the newest executes. */
async function searchAll(client: ProtocolClient, all: boolean): Promise<number> {
  let pages = 0;
  for (const kind of ["execute", "job"]) {
    let cursor: string | undefined;
    do {
      const reply = await client.send("promise.search", "ops-ls", {
        ...(all ? {} : { state: "pending" }),
        tags: { [TAG.kind]: kind },
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      pages += 1;
      cursor = (reply.data as Found).cursor;
    } while (cursor);
  }
  return pages;
}

/** The look-ups of one job's attempts when it has none, as attempts.ts makes them. */
async function attemptLookup(
  client: ProtocolClient,
  jobId: string,
): Promise<{ getMs: number; searchMs: number }> {
  const get = await timed(() => client.send("promise.get", "ops-ls", { id: attemptId(jobId, 1) }));
  const search = await timed(() =>
    client.send("promise.search", "ops-ls", { tags: { [TAG.attemptOf]: jobId }, limit: 100 }),
  );
  return { getMs: get.ms, searchMs: search.ms };
}

async function breakdown(url: string): Promise<LsBreakdown> {
  const client = new ProtocolClient("raw", url);
  try {
    const pending = await timed(() => searchAll(client, false));
    const all = await timed(() => searchAll(client, true));
    const newest = await client.send("promise.search", "ops-ls", {
      state: "pending",
      tags: { [TAG.kind]: "execute" },
      limit: ATTEMPT_SAMPLES,
    });
    const jobIds = (newest.data as Found).promises.flatMap((p) => p.tags[TAG.executeOf] ?? []);
    const singles: { getMs: number; searchMs: number }[] = [];
    for (const id of jobIds) singles.push(await attemptLookup(client, id));
    const get = summarize(singles.map((s) => s.getMs));
    const search = summarize(singles.map((s) => s.searchMs));
    return {
      pendingSearchesMs: pending.ms,
      pendingPages: pending.result,
      allSearchesMs: all.ms,
      allPages: all.result,
      attemptSamples: singles.length,
      oneAttemptGetMs: get.medianMs,
      oneAttemptSearchMs: search.medianMs,
      hundredLookupsMs: round1(100 * (get.medianMs + search.medianMs)),
    };
  } finally {
    client.close();
  }
}
