// Part 1: `modulate ls` from the CLI against a full store, beside `modulate --version` timed in
// the same rounds (one of each command per round, in turn), so that the difference is ls's own
// work and not a drift of a shared machine. The CLI runs dist/ (the last build); then, in
// process, src/'s listJobs is timed too, and where its time goes: the requests ls sends, one
// kind at a time. A failed run (ls gives up on a request after
// 10 s) is kept with its time and its message: at the sizes that is the finding.
import { listJobs } from "../../src/orchestration/client/list.ts";
import { TAG, attemptId } from "../../src/orchestration/jobs/names.ts";
import { requestSender } from "../../src/orchestration/wire/wire.ts";
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
  /** Set when the runs were cut short: a run failed or took longer than `GIVE_UP_MS`. */
  readonly gaveUp: boolean;
  /**
   * CPU time per run (median): the CLI's own process, and the server's while it answered.
   * A shared machine's load stretches wall times far more than these.
   */
  readonly cliCpuMs: number;
  readonly serverCpuMs: number;
  /** CLI CPU over --version's CLI CPU. */
  readonly cliCpuOverVersionMs: number;
}

export interface LsBreakdown {
  /** listJobs of src/ (what `ls` runs after its start-up), in-process, for each command. */
  readonly inProcessMs: Record<string, number>;
  /** The searches of every pending execute and root promise, page by page (1,000 a page). */
  readonly pendingSearchesMs: number;
  readonly pendingPages: number;
  /** The same with settled ones too, as --all sends them. */
  readonly allSearchesMs: number;
  readonly allPages: number;
  /** One page of 1,000 pending execute promises: its time and size on the wire. */
  readonly onePendingPageMs: number;
  readonly onePendingPageBytes: number;
  /** The same page without the tag filter (pending promises of any kind): the tag match's share. */
  readonly onePendingPageUntaggedMs: number;
  /** A queued job's attempt look-up by id (promise.get of `<job>.attempt-1`): median of 5. */
  readonly oneAttemptGetMs: number;
  /** The tag search ls makes instead for a job run before attempts were named by lineage. */
  readonly oneAttemptTagSearchMs: number;
}

export interface LsReport {
  readonly runs: number;
  readonly version: Summary & { readonly cliCpuMs: number };
  readonly commands: readonly LsFigures[];
  readonly breakdown: LsBreakdown;
}

export const LS_COMMANDS: readonly LsCommand[] = [
  { name: "ls", args: ["ls"] },
  { name: "ls --limit 20", args: ["ls", "--limit", "20"] },
  { name: "ls --all --limit 20", args: ["ls", "--all", "--limit", "20"] },
];

/**
 * A command that failed, or took longer than this, once is run no more: its figure is clear,
 * and each such run costs minutes (the server answers its queued requests after ls gave up).
 */
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
  const versionCpu: number[] = [];
  const samples = new Map<string, number[]>(LS_COMMANDS.map((c) => [c.name, []]));
  const cliCpu = new Map<string, number[]>(LS_COMMANDS.map((c) => [c.name, []]));
  const serverCpu = new Map<string, number[]>(LS_COMMANDS.map((c) => [c.name, []]));
  /** `run` with the CPU it cost this process's children (the CLI) and the server. */
  const withCpu = async <T>(run: () => Promise<T>) => {
    const cli = processCpu("self")?.childrenMs ?? 0;
    const server = processCpu(serverPid)?.ownMs ?? 0;
    const result = await run();
    return {
      result,
      cliMs: (processCpu("self")?.childrenMs ?? 0) - cli,
      serverMs: (processCpu(serverPid)?.ownMs ?? 0) - server,
    };
  };
  const failures = new Map<string, string[]>(LS_COMMANDS.map((c) => [c.name, []]));
  const rows = new Map<string, number>();
  const givenUp = new Set<string>();
  // One warm-up of --version (V8's compile cache) and of the quickest ls (the page cache).
  await timeCommand(modulate, ["--version"]);
  await timeCommand(modulate, ["ls", "--limit", "1", "--url", url]);
  await serverIdle(serverPid);
  for (let round = 1; round <= runs; round += 1) {
    const { result: v, cliMs: vCpu } = await withCpu(() => timeCommand(modulate, ["--version"]));
    if (v.code !== 0) throw new Error(`modulate --version exited ${v.code}: ${v.stderr}`);
    version.push(v.ms);
    versionCpu.push(vCpu);
    for (const c of LS_COMMANDS) {
      if (givenUp.has(c.name)) continue;
      const timed = await withCpu(() => timeCommand(modulate, [...c.args, "--url", url]));
      const run = timed.result;
      samples.get(c.name)?.push(run.ms);
      cliCpu.get(c.name)?.push(timed.cliMs);
      serverCpu.get(c.name)?.push(timed.serverMs);
      if (run.code === 0) rows.set(c.name, run.stdout.trimEnd().split("\n").length - 1);
      else failures.get(c.name)?.push(`exit ${run.code}: ${run.stderr.trim().slice(0, 300)}`);
      log(`ls: round ${round}: ${c.name} ${Math.round(run.ms)} ms (exit ${run.code})`);
      if (run.ms > GIVE_UP_MS || run.code !== 0) givenUp.add(c.name);
      await serverIdle(serverPid);
    }
  }
  const versionSummary = summarize(version);
  const versionCliCpuMs = summarize(versionCpu).medianMs;
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
      cliCpuMs: summarize(cliCpu.get(c.name) ?? []).medianMs,
      serverCpuMs: summarize(serverCpu.get(c.name) ?? []).medianMs,
      cliCpuOverVersionMs: round1(summarize(cliCpu.get(c.name) ?? []).medianMs - versionCliCpuMs),
    };
  });
  log("ls: where the time goes, request by request");
  return {
    runs,
    version: { ...versionSummary, cliCpuMs: versionCliCpuMs },
    commands,
    breakdown: await breakdown(url),
  };
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

async function breakdown(url: string): Promise<LsBreakdown> {
  const client = new ProtocolClient("raw", url);
  const send = requestSender({ url });
  try {
    const inProcessMs: Record<string, number> = {};
    for (const [name, filter] of [
      ["ls", { all: false, limit: 100 }],
      ["ls --limit 20", { all: false, limit: 20 }],
      ["ls --all --limit 20", { all: true, limit: 20 }],
    ] as const) {
      inProcessMs[name] = (await timed(() => listJobs(send, filter, Date.now()))).ms;
    }
    const pending = await timed(() => searchAll(client, false));
    const all = await timed(() => searchAll(client, true));
    const pageQuery = { state: "pending", tags: { [TAG.kind]: "execute" }, limit: 1000 };
    const page = await timed(() => client.send("promise.search", "ops-ls", pageQuery));
    const untagged = await timed(() =>
      client.send("promise.search", "ops-ls", { state: "pending", limit: 1000 }),
    );
    const jobIds = (page.result.data as Found).promises
      .slice(0, ATTEMPT_SAMPLES)
      .flatMap((p) => p.tags[TAG.executeOf] ?? []);
    const gets: number[] = [];
    const searches: number[] = [];
    for (const id of jobIds) {
      gets.push(
        (await timed(() => client.send("promise.get", "ops-ls", { id: attemptId(id, 1) }))).ms,
      );
      const query = { tags: { [TAG.attemptOf]: id }, limit: 100 };
      searches.push((await timed(() => client.send("promise.search", "ops-ls", query))).ms);
    }
    return {
      inProcessMs,
      pendingSearchesMs: pending.ms,
      pendingPages: pending.result,
      allSearchesMs: all.ms,
      allPages: all.result,
      onePendingPageMs: page.ms,
      onePendingPageBytes: Buffer.byteLength(JSON.stringify(page.result.data)),
      onePendingPageUntaggedMs: untagged.ms,
      oneAttemptGetMs: summarize(gets).medianMs,
      oneAttemptTagSearchMs: summarize(searches).medianMs,
    };
  } finally {
    client.close();
  }
}
