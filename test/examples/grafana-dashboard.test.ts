// The Grafana dashboard under examples/ reads only metrics the server and the workers expose,
// with the suffixes their types have: a renamed metric fails here, not on someone's screen.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WorkerMetrics } from "../../src/orchestration/worker-metrics.ts";
import { ServerMetrics } from "../../src/server/metrics.ts";
import { ROOT } from "../helpers/processes.ts";

async function exposedNames(): Promise<Set<string>> {
  const server = new ServerMetrics({
    storeStats: () => Promise.resolve(undefined),
    databasePath: ":memory:",
  });
  const worker = new WorkerMetrics({
    group: "g",
    slots: 1,
    busySlots: () => 0,
    gpus: () => ({ total: 0, busy: 0 }),
  });
  const names = new Set<string>();
  for (const text of [await server.exposition(), await worker.exposition()]) {
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (type === "histogram")
        for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
      else names.add(name ?? "");
    }
  }
  return names;
}

describe("examples/grafana-dashboard.json", () => {
  it("queries only metrics that modulate exposes", async () => {
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, "examples", "grafana-dashboard.json"), "utf8"),
    ) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(
      dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) => t.expr.match(/modulate_[a-z_]+/g) ?? []),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    const exposed = await exposedNames();
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });
});
