// Counters, gauges and histograms, written in Prometheus' text exposition format (0.0.4).
// Our own small writer: prom-client is not among the project's dependencies, and a helper
// could not add one (the lead may swap this for prom-client@15.1.3, whose Registry has the
// same shape). Recording is a map lookup and an add: cheap enough for every request.
import type { ServerResponse } from "node:http";

export type Labels = Readonly<Record<string, string>>;

/** The content type of the text format, for the `/metrics` answer. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Answers a scrape with the exposition `text` promises, or hands its failure to `onFailure`:
 * the server's `/metrics` and a worker's `--metrics-port` answer alike.
 */
export function answerScrape(
  res: ServerResponse,
  text: Promise<string>,
  onFailure: (error: unknown) => void,
): void {
  text.then((exposition) => {
    const body = Buffer.from(exposition, "utf8");
    res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": body.byteLength });
    res.end(body);
  }, onFailure);
}

/** Seconds: from a millisecond up to an hour, for request latencies, queue waits and runs. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600,
];

interface Series<V> {
  labels: Labels;
  value: V;
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels, extra?: readonly [string, string]): string {
  const entries = Object.entries(labels);
  if (extra) entries.push([extra[0], extra[1]]);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  lines(): string[];
}

class Scalar implements Metric {
  private readonly series = new Map<string, Series<number>>();
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  constructor(name: string, help: string, type: "counter" | "gauge") {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  entry(labels: Labels): Series<number> {
    const key = labelKey(labels);
    let found = this.series.get(key);
    if (!found) {
      found = { labels: { ...labels }, value: 0 };
      this.series.set(key, found);
    }
    return found;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  lines(): string[] {
    return [...this.series.values()].map(
      (s) => `${this.name}${formatLabels(s.labels)} ${formatNumber(s.value)}`,
    );
  }
}

export class Counter {
  private readonly scalar: Scalar;
  constructor(scalar: Scalar) {
    this.scalar = scalar;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.scalar.inc(labels, by);
  }
  /** For a total kept elsewhere (another thread's count), copied in when collected. */
  setTotal(labels: Labels, total: number): void {
    this.scalar.set(labels, total);
  }
  /** The series of `labels`, found once: for hot paths that count the same labels again. */
  labels(labels: Labels): { inc(by?: number): void } {
    const series = this.scalar.entry(labels);
    return {
      inc(by = 1) {
        series.value += by;
      },
    };
  }
}

export class Gauge {
  private readonly scalar: Scalar;
  constructor(scalar: Scalar) {
    this.scalar = scalar;
  }
  set(labels: Labels, value: number): void {
    this.scalar.set(labels, value);
  }
  inc(labels: Labels = {}, by = 1): void {
    this.scalar.inc(labels, by);
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  readonly type = "histogram" as const;
  private readonly series = new Map<string, Series<HistogramValue>>();
  readonly name: string;
  readonly help: string;
  private readonly buckets: readonly number[];
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
  }

  observe(labels: Labels, value: number): void {
    this.#record(this.#entry(labels).value, value);
  }

  /** The series of `labels`, found once: for hot paths that observe the same labels again. */
  labels(labels: Labels): { observe(value: number): void } {
    const series = this.#entry(labels).value;
    return { observe: (value) => this.#record(series, value) };
  }

  #entry(labels: Labels): Series<HistogramValue> {
    const key = labelKey(labels);
    let found = this.series.get(key);
    if (!found) {
      found = {
        labels: { ...labels },
        value: { counts: this.buckets.map(() => 0), sum: 0, count: 0 },
      };
      this.series.set(key, found);
    }
    return found;
  }

  #record(v: HistogramValue, value: number): void {
    // Cumulative counts are made when written; each observation lands in its first bucket.
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) v.counts[index] = (v.counts[index] ?? 0) + 1;
    v.sum += value;
    v.count += 1;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += value.counts[i] ?? 0;
        out.push(
          `${this.name}_bucket${formatLabels(labels, ["le", formatNumber(bound)])} ${cumulative}`,
        );
      });
      out.push(`${this.name}_bucket${formatLabels(labels, ["le", "+Inf"])} ${value.count}`);
      out.push(`${this.name}_sum${formatLabels(labels)} ${formatNumber(value.sum)}`);
      out.push(`${this.name}_count${formatLabels(labels)} ${value.count}`);
    }
    return out;
  }
}

/** A set of metrics written together; `collect` hooks refresh gauges just before writing. */
export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => void | Promise<void>)[] = [];

  counter(name: string, help: string): Counter {
    const scalar = new Scalar(name, help, "counter");
    this.metrics.push(scalar);
    return new Counter(scalar);
  }

  gauge(name: string, help: string): Gauge {
    const scalar = new Scalar(name, help, "gauge");
    this.metrics.push(scalar);
    return new Gauge(scalar);
  }

  histogram(name: string, help: string, buckets: readonly number[] = SECONDS_BUCKETS): Histogram {
    const histogram = new Histogram(name, help, buckets);
    this.metrics.push(histogram);
    return histogram;
  }

  /** Runs before each exposition: for values read on demand (sizes, counts held elsewhere). */
  onCollect(collect: () => void | Promise<void>): void {
    this.collectors.push(collect);
  }

  async exposition(): Promise<string> {
    for (const collect of this.collectors) await collect();
    const out: string[] = [];
    for (const metric of this.metrics) {
      out.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${metric.name} ${metric.type}`);
      out.push(...metric.lines());
    }
    return `${out.join("\n")}\n`;
  }
}

/** One sample of a parsed exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads the samples of a text exposition (what tests and `stats` need of it). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ""] = (pair[2] ?? "").replace(/\\(.)/g, (_, c: string) =>
        c === "n" ? "\n" : c,
      );
    }
    const raw = match[3] ?? "";
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name: match[1] ?? "", labels, value });
  }
  return samples;
}
