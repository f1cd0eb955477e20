// `GET /metrics` as Prometheus scrapes it, from real server, router and worker processes: the
// server counts requests, commits, fsyncs and poll streams; the worker (--metrics-port) counts
// jobs by outcome with their queue wait, run time and sandbox start (issue 18, item 5).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseExposition, type Sample } from "../../src/common/metrics.ts";
import { runCli, startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import {
  eventually,
  JOB_FIXTURES,
  ROOT,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

afterEach(stopAll);

async function scrape(url: string, token?: string): Promise<{ status: number; samples: Sample[] }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, samples: [] };
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return { status: 200, samples: parseExposition(text) };
}

function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

describe("metrics", () => {
  it("the server and a worker count a finished job", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const worker = await startWorkerProcess(server.url, "cpu", tempDir(), ["--metrics-port", "0"]);
    const workerMetrics = /metrics: (http:\/\/\S+)/.exec(worker.output())?.[1];
    expect(workerMetrics).toBeDefined();

    const ok = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "quick.py"),
      "--group",
      "cpu",
      "--json",
    );
    expect(ok.record.state).toBe("succeeded");
    const failed = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "exit-7.py"),
      "--group",
      "cpu",
      "--json",
    );
    expect(failed.record.state).toBe("failed");

    const fromServer = await scrape(`${server.url}/metrics`);
    expect(fromServer.status).toBe(200);
    const s = fromServer.samples;
    expect(
      sum(s, "modulate_server_requests_total", { kind: "promise.create", status: "200" }),
    ).toBeGreaterThan(0);
    expect(
      sum(s, "modulate_server_request_duration_seconds_count", { kind: "promise.create" }),
    ).toBeGreaterThan(0);
    expect(sum(s, "modulate_server_store_commits_total")).toBeGreaterThan(0);
    expect(sum(s, "modulate_server_store_fsyncs_total")).toBeGreaterThan(0);
    expect(sum(s, "modulate_server_poll_connections", { group: "cpu" })).toBeGreaterThanOrEqual(1);
    expect(sum(s, "modulate_server_store_size_bytes", { file: "db" })).toBeGreaterThan(0);
    expect(sum(s, "modulate_server_store_up")).toBe(1);
    expect(s.some((x) => x.name === "modulate_server_pending_promises")).toBe(true);

    const fromWorker = await scrape(workerMetrics ?? "");
    const w = fromWorker.samples;
    expect(sum(w, "modulate_worker_jobs_total", { group: "cpu", outcome: "succeeded" })).toBe(1);
    expect(sum(w, "modulate_worker_jobs_total", { group: "cpu", outcome: "failed" })).toBe(1);
    expect(sum(w, "modulate_worker_queue_wait_seconds_count", { group: "cpu" })).toBe(2);
    expect(sum(w, "modulate_worker_job_duration_seconds_count", { outcome: "succeeded" })).toBe(1);
    expect(sum(w, "modulate_worker_sandbox_start_seconds_count")).toBe(2);
    expect(sum(w, "modulate_worker_slots", { state: "free" })).toBe(1);
    expect(sum(w, "modulate_worker_redispatches_total")).toBe(0);
  });

  it("a GPU worker counts GPUs and slots busy while a job runs, and an OOM kill", async () => {
    const server = await startServerProcess();
    await startRouterProcess(server.url);
    const fakeGpus = `${join(ROOT, "test", "fixtures", "sandbox")}:${process.env["PATH"] ?? ""}`;
    const worker = await startWorkerProcess(
      server.url,
      "gpu",
      tempDir(),
      ["--gpus", "auto", "--metrics-port", "0"],
      { PATH: fakeGpus },
    );
    const url = /metrics: (http:\/\/\S+)/.exec(worker.output())?.[1] ?? "";
    const idle = (await scrape(url)).samples;
    expect(sum(idle, "modulate_worker_gpus", { state: "free" })).toBe(2);
    expect(sum(idle, "modulate_worker_gpus", { state: "busy" })).toBe(0);

    const sleeping = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "sleepy.py"),
      "--group",
      "gpu",
      "--detach",
      "--",
      "60",
    );
    expect(sleeping.code).toBe(0);
    await eventually(async () => {
      const s = (await scrape(url)).samples;
      return sum(s, "modulate_worker_gpus", { state: "busy" }) === 1 &&
        sum(s, "modulate_worker_slots", { state: "busy" }) === 1
        ? true
        : undefined;
    }, "one GPU and one slot busy");

    const hog = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "memory-hog.py"),
      "--group",
      "gpu",
      "--memory",
      "64M",
      "--json",
    );
    expect(hog.record.reason).toMatch(/memory limit 64 MiB/);
    const after = (await scrape(url)).samples;
    expect(sum(after, "modulate_worker_oom_kills_total", { group: "gpu" })).toBe(1);
    expect(sum(after, "modulate_worker_jobs_total", { outcome: "failed" })).toBe(1);
  });

  it("the peer that runs a job again after its worker is killed counts a re-dispatch", async () => {
    const server = await startServerProcess(["--data", tempDir()]);
    await startRouterProcess(server.url);
    const workDir = tempDir();
    const workers = await Promise.all([
      startWorkerProcess(server.url, "g", workDir, ["--metrics-port", "0", "--lease", "3s"]),
      startWorkerProcess(server.url, "g", workDir, ["--metrics-port", "0", "--lease", "3s"]),
    ]);
    const submitted = await runCli(
      server.url,
      "submit",
      join(JOB_FIXTURES, "sleepy.py"),
      "--group",
      "g",
      "--detach",
      "--",
      "2",
    );
    const jobId = submitted.out.trim().split("\n").pop() ?? "";
    const started = new RegExp(`start ${jobId} attempt 1`);
    const first = await Promise.race(workers.map((w) => w.waitFor(started).then(() => w)));
    const peer = workers.find((w) => w !== first);
    first.kill("SIGKILL");
    await first.exited();
    await peer?.waitFor(new RegExp(`done ${jobId} succeeded`), 60_000);
    const url = /metrics: (http:\/\/\S+)/.exec(peer?.output() ?? "")?.[1] ?? "";
    const s = (await scrape(url)).samples;
    expect(sum(s, "modulate_worker_redispatches_total", { group: "g" })).toBe(1);
    expect(sum(s, "modulate_worker_jobs_total", { outcome: "succeeded" })).toBe(1);
    // The queue wait is the first attempt's; a re-dispatch is not counted as waiting again.
    expect(sum(s, "modulate_worker_queue_wait_seconds_count")).toBe(0);
  });

  it("the server's /metrics asks for the token when auth is on, unless --metrics-public", async () => {
    const guarded = await startServerProcess(["--in-memory", "--token", "s3cret"]);
    expect((await scrape(`${guarded.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${guarded.url}/metrics`, "wrong")).status).toBe(401);
    expect((await scrape(`${guarded.url}/metrics`, "s3cret")).status).toBe(200);
    const open = await startServerProcess([
      "--in-memory",
      "--token",
      "s3cret",
      "--metrics-public",
      "--max-body",
      "1K",
    ]);
    // Refused before it reached the engine, a request is still counted, by its status.
    const tooLarge = await fetch(`${open.url}/`, { method: "POST", body: "x".repeat(2048) });
    expect(tooLarge.status).toBe(413);
    const scraped = await scrape(`${open.url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(sum(scraped.samples, "modulate_server_requests_total", { status: "413" })).toBe(1);
  });

  it("a worker whose --metrics-port is taken says so in one line and exits 2", async () => {
    const server = await startServerProcess();
    const first = await startWorkerProcess(server.url, "cpu", tempDir(), ["--metrics-port", "0"]);
    const port = /metrics: http:\/\/127\.0\.0\.1:(\d+)/.exec(first.output())?.[1] ?? "";
    const second = await runCli(
      server.url,
      "worker",
      "--group",
      "cpu",
      "--work-dir",
      tempDir(),
      "--metrics-port",
      port,
    );
    expect(second.code).toBe(2);
    expect(second.out).toContain(`--metrics-port ${port} on 127.0.0.1 is in use`);
  });
});
