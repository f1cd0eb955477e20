// Issue 14, item 1: modulate's flows through a proxy that refuses what each generation of the
// real Resonate server would refuse (test/helpers/protocol-profiles). Real processes: a
// `modulate server`, the proxy in front of it, and routers, workers and the CLI pointed at the
// proxy. A flow passes a profile when it ends as it should with nothing refused on the way.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  runCli,
  startRouterProcess,
  startWorkerProcess,
  type CliRun,
  type WorkerProcess,
} from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
  type Spawned,
} from "../helpers/processes.ts";
import {
  checkingProxy,
  type CheckingProxy,
  type RefusedRequest,
} from "../helpers/protocol-profiles/checking-proxy.ts";
import { PROFILES, type ProfileName } from "../helpers/protocol-profiles/profiles.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";

/**
 * Whether modulate's ids follow each generation's lineage today, so that every flow runs
 * through it with zero refusals. c8d7c7b refuses the router's ids (`modulate-execute.<job>`
 * and its siblings hold a '.' in their origin): flip it to true when issue 14, item 2 renames
 * them, and its flows below run.
 */
const IDS_FOLLOW_LINEAGE: Record<ProfileName, boolean> = {
  "v0.9.8": true,
  colon: true,
  c8d7c7b: true,
};

const proxies: CheckingProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await stopAll();
});

interface Profiled {
  proxy: CheckingProxy;
  router: Spawned;
  cli: (command: string, ...args: string[]) => Promise<CliRun>;
  worker: (extra?: string[]) => Promise<WorkerProcess>;
}

/** A server, the proxy for `profile` in front of it, and a router on the proxy. */
async function cluster(profile: ProfileName): Promise<Profiled> {
  const server = await startServerProcess(["--in-memory"]);
  const proxy = await checkingProxy(server.url, PROFILES[profile]);
  proxies.push(proxy);
  const router = await startRouterProcess(proxy.url);
  return {
    proxy,
    router,
    cli: (command, ...args) => runCli(proxy.url, command, ...args),
    worker: (extra = []) => startWorkerProcess(proxy.url, "g", tempDir(), extra),
  };
}

/**
 * A process that asks which generation it talks to (issue 14, item 2) sends two callbacks
 * between missing promises named `modulate-probe…`, one of which a lineage server refuses by
 * design (origin_mismatch): that refusal is the answer it looks for, not a flow's failure.
 */
function unexpected(proxy: CheckingProxy): RefusedRequest[] {
  return proxy.refused.filter(
    (r) => !(r.kind === "promise.register_callback" && r.id.includes("modulate-probe")),
  );
}

const script = (name: string): string => join(JOB_FIXTURES, name);

describe.each(Object.keys(PROFILES) as ProfileName[])("under the %s profile", (profile) => {
  const flow = it.skipIf(!IDS_FOLLOW_LINEAGE[profile]);

  flow("a waiting submit ends with its script's output, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    await worker();
    const run = await cli("submit", script("quick.py"), "--group", "g", "--json");
    expect(run.code).toBe(0);
    expect(run.record.stdout).toBe("quick\n");
    expect(unexpected(proxy)).toEqual([]);
  });

  flow("a detached submit is found by get --wait, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    await worker();
    const submitted = await cli("submit", script("quick.py"), "--group", "g", "--detach", "--json");
    expect(submitted.code).toBe(0);
    const got = await cli("get", String(submitted.record.id), "--wait", "--json");
    expect(got.record).toMatchObject({ state: "succeeded", stdout: "quick\n" });
    expect(unexpected(proxy)).toEqual([]);
  });

  flow("a worker running two jobs at once heartbeats both, nothing refused", async () => {
    // The SDK sends every task a process holds in one task.heartbeat: c8d7c7b refuses a batch
    // whose tasks have different origins (types.rs:574-587).
    const { proxy, cli, worker } = await cluster(profile);
    await worker(["--slots", "2"]);
    const ids = await Promise.all(
      [0, 1].map(async () => {
        const run = await cli(
          "submit",
          script("sleepy.py"),
          "--group",
          "g",
          "--detach",
          "--json",
          "--",
          "4",
        );
        return String(run.record.id);
      }),
    );
    for (const id of ids) {
      expect((await cli("get", id, "--wait", "--json")).record.state).toBe("succeeded");
    }
    expect(proxy.seen.get("task.heartbeat") ?? 0).toBeGreaterThan(0);
    expect(unexpected(proxy)).toEqual([]);
  });

  flow("a job whose worker is killed mid-job finishes on a peer, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    const workers = await Promise.all([worker(), worker()]);
    const submitted = await cli(
      "submit",
      script("sleepy.py"),
      "--group",
      "g",
      "--detach",
      "--json",
      "--",
      "2",
    );
    const id = String(submitted.record.id);
    const started = new RegExp(`start ${id} attempt 1`);
    const first = await Promise.race(workers.map((w) => w.waitFor(started).then(() => w)));
    first.kill("SIGKILL");
    await first.exited();
    const got = await cli("get", id, "--wait", "--json");
    expect(got.record).toMatchObject({ state: "succeeded", attempt: 2 });
    expect(unexpected(proxy)).toEqual([]);
  });

  flow("a waiting submit survives its router's restart, nothing refused", async () => {
    const { proxy, router, worker } = await cluster(profile);
    const running = await worker();
    const submit = start(MODULATE, [
      "submit",
      "--url",
      proxy.url,
      script("sleepy.py"),
      "--group",
      "g",
      "--json",
      "--",
      "1.5",
    ]);
    const id = (await submit.waitFor(/job (job-\S+) queued/))[1] ?? "";
    await running.waitFor(new RegExp(`start ${id} attempt 1`));
    router.kill("SIGKILL");
    await router.exited();
    await startRouterProcess(proxy.url);
    expect(await submit.exited()).toBe(0);
    expect(unexpected(proxy)).toEqual([]);
  });

  flow(
    "a job --after a running one waits for it, then runs again once it fails, nothing refused",
    async () => {
      // The dependant's router waits in a step of the dependant's own lineage, and follows the
      // dependency by listening, never by awaiting a promise of another lineage.
      const { proxy, cli, worker } = await cluster(profile);
      await worker(["--slots", "2"]);
      const first = await cli(
        "submit",
        script("sleepy.py"),
        "--group",
        "g",
        "--detach",
        "--json",
        "--",
        "2",
      );
      const id = String(first.record.id);
      const second = await cli(
        "submit",
        script("fails-before-attempt.py"),
        "--group",
        "g",
        "--after",
        id,
        "--retries",
        "1",
        "--json",
        "--",
        "2",
      );
      expect(second.record).toMatchObject({ state: "succeeded", attempt: 2 });
      expect(second.record.startedAt).toBeGreaterThan(
        Number((await cli("get", id, "--json")).record.finishedAt),
      );
      expect(unexpected(proxy)).toEqual([]);
    },
  );

  flow("ls and logs read a finished job, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    await worker();
    const done = await cli("submit", script("quick.py"), "--group", "g", "--json");
    const id = String(done.record.id);
    const listed = await cli("ls", "--all");
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(id);
    const logs = await cli("logs", id);
    expect(logs.code).toBe(0);
    expect(logs.out).toContain("quick");
    expect(unexpected(proxy)).toEqual([]);
  });

  flow("cancel ends a running job, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    const running = await worker();
    const long = await cli(
      "submit",
      script("sleepy.py"),
      "--group",
      "g",
      "--detach",
      "--json",
      "--",
      "60",
    );
    const id = String(long.record.id);
    await running.waitFor(new RegExp(`start ${id} attempt 1`));
    expect((await cli("cancel", id)).code).toBe(0);
    expect((await cli("get", id, "--wait", "--json")).record.state).toBe("canceled");
    expect(unexpected(proxy)).toEqual([]);
  });

  flow(
    "a sweep runs every job, capped where the server allows awaits, nothing refused",
    async () => {
      // Issue 17: a sweep's job `S.2` holds a '.', so it declares the sweep as its origin on the
      // '.' generation; the cap's lanes await their jobs, which a ':' server refuses across
      // origins, so there the sweep goes uncapped.
      const { proxy, cli, worker } = await cluster(profile);
      await worker(["--slots", "2"]);
      const cap = profile === "colon" ? [] : ["--max-running", "2"];
      const run = await cli(
        "submit",
        script("quick.py"),
        script("quick.py"),
        script("quick.py"),
        "--group",
        "g",
        "--id",
        "sw",
        "--wait",
        ...cap,
      );
      expect(run.out).toContain("3/3 done, 0 failed");
      expect(run.code).toBe(0);
      expect((await cli("retry", "sw.2")).code).toBe(0);
      expect((await cli("get", "sw.2-r2", "--wait", "--json")).record.state).toBe("succeeded");
      expect(unexpected(proxy)).toEqual([]);
    },
  );

  flow("the dashboard's reads find a running job and its worker, nothing refused", async () => {
    const { proxy, cli, worker } = await cluster(profile);
    const running = await worker();
    const long = await cli(
      "submit",
      script("sleepy.py"),
      "--group",
      "g",
      "--detach",
      "--json",
      "--",
      "30",
    );
    const id = String(long.record.id);
    await running.waitFor(new RegExp(`start ${id} attempt 1`));
    // What the dashboard reads, through the same client as the CLI.
    const client = new ModulateClient({ url: proxy.url });
    try {
      const listed = await client.list({ all: true, limit: 100 });
      expect(listed.jobs.find((j) => j.id === id)?.stage).toBe("running");
      const workers = await client.workers();
      expect(workers.find((w) => w.pid === running.workerPid)?.jobs).toEqual([id]);
    } finally {
      await client.close();
    }
    expect(unexpected(proxy)).toEqual([]);
  });
});

// Until issue 14, item 2 lands, c8d7c7b refuses what the router names; flipping
// IDS_FOLLOW_LINEAGE.c8d7c7b skips this and runs that profile's flows above instead.
describe.skipIf(IDS_FOLLOW_LINEAGE.c8d7c7b)("today's ids under the c8d7c7b profile", () => {
  it("are refused: the router's promises for a job hold a '.' in their origin, and the router retries them", async () => {
    const { proxy, cli, worker } = await cluster("c8d7c7b");
    const running = await worker();
    const submitted = await cli("submit", script("quick.py"), "--group", "g", "--detach", "--json");
    // The client's own create passes: a job id is its own origin and holds no '.'.
    expect(submitted.code).toBe(0);
    const id = String(submitted.record.id);
    // A 400 makes the SDK release the router's task, and the router takes it again: it spins.
    await eventually(
      () => proxy.count("dot_in_origin", "task.fence") >= 2 || undefined,
      "the router's create to be refused twice",
    );
    const refused = unexpected(proxy);
    expect(refused[0]).toMatchObject({
      kind: "task.fence",
      rule: "dot_in_origin",
      status: 400,
      reason: "resonate:origin must not contain '.'",
    });
    // The execute promise, named after the job (modulate-execute.<job> before item 2).
    expect(refused[0]?.id).toContain(id);
    expect(refused[0]?.id).not.toBe(id);
    expect(new Set(refused.map((r) => r.rule))).toEqual(new Set(["dot_in_origin"]));
    expect(running.output()).not.toContain(`start ${id}`);
  });
});
