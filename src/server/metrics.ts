// What `GET /metrics` says of the server: requests by kind and status with their latency, the
// poll streams open, and from the store (on the engine's thread, asked only when scraped)
// pending promises and tasks, commits and fsyncs, and the size of its files. Recording a
// request is two map updates on the main thread; nothing is added to the engine's hot path.
import { statSync } from "node:fs";
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from "../common/metrics.ts";
import type { StoreStats } from "./store.ts";

export interface ServerMetricsSources {
  /** The store's counts and totals; undefined while the engine cannot answer. */
  storeStats(): Promise<StoreStats | undefined>;
  /** The database file; its `-wal` file is counted beside it. ":memory:" has no size. */
  databasePath: string;
}

interface AnsweredSeries {
  count: { inc(): void };
  latency: { observe(seconds: number): void };
}

export class ServerMetrics {
  readonly registry = new MetricsRegistry();
  readonly #requests: Counter;
  readonly #latency: Histogram;
  readonly #polls: Gauge;
  readonly #pollCounts = new Map<string, number>();
  /** Each kind and status's series, found once: counting a request is then two additions. */
  readonly #answeredSeries = new Map<string, Map<number, AnsweredSeries>>();

  constructor(sources: ServerMetricsSources) {
    const r = this.registry;
    this.#requests = r.counter(
      "modulate_server_requests_total",
      "Protocol requests (POST /) answered, by kind and HTTP status.",
    );
    this.#latency = r.histogram(
      "modulate_server_request_duration_seconds",
      "Time from a request's arrival to its answer, by kind.",
    );
    this.#polls = r.gauge(
      "modulate_server_poll_connections",
      "Poll streams (GET /poll) open, by group.",
    );
    const pendingPromises = r.gauge(
      "modulate_server_pending_promises",
      "Durable promises not yet settled.",
    );
    const tasks = r.gauge("modulate_server_tasks", "Tasks not yet completed, by state.");
    const commits = r.counter(
      "modulate_server_store_commits_total",
      "Store transactions committed that wrote something.",
    );
    const fsyncs = r.counter(
      "modulate_server_store_fsyncs_total",
      "fsyncs of the store's write-ahead log (none with --sync normal or --in-memory).",
    );
    const fsyncSeconds = r.counter(
      "modulate_server_store_fsync_seconds_total",
      "Seconds spent in fsyncs of the store's write-ahead log.",
    );
    const storeBytes = r.gauge(
      "modulate_server_store_size_bytes",
      "Size of the store's files on disk, by file (db, wal).",
    );
    const up = r.gauge(
      "modulate_server_store_up",
      "1 when the store answered this scrape, 0 when it did not.",
    );
    r.onCollect(async () => {
      for (const [group, count] of this.#pollCounts) this.#polls.set({ group }, count);
      const stats = await sources.storeStats();
      up.set({}, stats ? 1 : 0);
      if (stats) {
        pendingPromises.set({}, stats.pendingPromises);
        tasks.set({ state: "pending" }, stats.pendingTasks);
        tasks.set({ state: "acquired" }, stats.acquiredTasks);
        commits.setTotal({}, stats.commits);
        fsyncs.setTotal({}, stats.fsyncs);
        fsyncSeconds.setTotal({}, stats.fsyncSeconds);
      }
      if (sources.databasePath !== ":memory:") {
        storeBytes.set({ file: "db" }, fileSize(sources.databasePath));
        storeBytes.set({ file: "wal" }, fileSize(`${sources.databasePath}-wal`));
      }
    });
  }

  /** One `POST /` answered: its kind, HTTP status, and seconds since it arrived. */
  answered(kind: string, status: number, seconds: number): void {
    let ofKind = this.#answeredSeries.get(kind);
    if (!ofKind) {
      ofKind = new Map();
      this.#answeredSeries.set(kind, ofKind);
    }
    let series = ofKind.get(status);
    if (!series) {
      series = {
        count: this.#requests.labels({ kind, status: String(status) }),
        latency: this.#latency.labels({ kind }),
      };
      ofKind.set(status, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  pollOpened(group: string): void {
    this.#pollCounts.set(group, (this.#pollCounts.get(group) ?? 0) + 1);
  }

  pollClosed(group: string): void {
    this.#pollCounts.set(group, Math.max(0, (this.#pollCounts.get(group) ?? 0) - 1));
  }

  exposition(): Promise<string> {
    return this.registry.exposition();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
