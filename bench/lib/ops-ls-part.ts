// Part 1 end to end: a durable store filled through the protocol by a server run with
// --sync normal (fast; the data are the same), then a fresh `modulate server` with its
// defaults (--sync full) on that data dir, and `ls` timed from the CLI against it.
import { join } from "node:path";
import { startServer } from "./e2e-cluster.ts";
import { fillStore, type FillPlan, type FillResult } from "./ops-fill.ts";
import { measureLs, type LsReport } from "./ops-ls.ts";

export interface LsPart extends LsReport {
  readonly fill: FillPlan & FillResult & { readonly how: string };
}

export async function runLsPart(
  modulate: string,
  root: string,
  plan: FillPlan,
  runs: number,
  log: (line: string) => void,
): Promise<LsPart> {
  const dataDir = join(root, "ls-data");
  const filler = await startServer("durable", dataDir, ["--sync", "normal"], modulate);
  log(
    `ls: writing ${plan.outstanding} outstanding and ${plan.finished} finished jobs through the protocol (${plan.concurrency} connections)`,
  );
  let fill: FillResult;
  try {
    fill = await fillStore(filler.url, plan, log);
  } finally {
    filler.process.kill("SIGTERM");
    await filler.process.exited();
  }
  log(`ls: filled in ${fill.seconds} s (${fill.requestsPerSec} requests/s); restarting the server`);
  const server = await startServer("durable", dataDir, [], modulate);
  try {
    const report = await measureLs(modulate, server.url, server.process.pid, runs, log);
    return {
      ...report,
      fill: {
        ...plan,
        ...fill,
        how: "protocol: promise.create/settle over raw keep-alive HTTP to `modulate server --sync normal`, then measured on a fresh `modulate server` (--sync full) on the same --data",
      },
    };
  } finally {
    server.process.kill("SIGTERM");
    await server.process.exited();
  }
}
