// Part 1 end to end: a durable store filled through the protocol by a server run with
// --sync normal (fast; the data are the same), then a fresh `modulate server` with its
// defaults (--sync full) on that data dir, and `ls` timed from the CLI against it.
import { join } from "node:path";
import { MODULATE, startServer } from "./e2e-cluster.ts";
import { firstLine, startProcess } from "./e2e-processes.ts";
import { fillStore, type FillPlan, type FillResult } from "./ops-fill.ts";
import { measureLs, type LsReport } from "./ops-ls.ts";

export interface LsPart extends LsReport {
  readonly fill: FillPlan & FillResult & { readonly how: string };
}

export async function runLsPart(
  root: string,
  plan: FillPlan,
  runs: number,
  log: (line: string) => void,
): Promise<LsPart> {
  const dataDir = join(root, "ls-data");
  const filler = startProcess("fill-server", MODULATE, [
    "server",
    "--port",
    "0",
    "--data",
    dataDir,
    "--sync",
    "normal",
  ]);
  const { match } = await firstLine([filler], /listening on (http:\/\/\S+)/, 30_000);
  log(
    `ls: writing ${plan.outstanding} outstanding and ${plan.finished} finished jobs through the protocol (${plan.concurrency} connections)`,
  );
  let fill: FillResult;
  try {
    fill = await fillStore(match[1] ?? "", plan, log);
  } finally {
    filler.kill("SIGTERM");
    await filler.exited();
  }
  log(`ls: filled in ${fill.seconds} s (${fill.requestsPerSec} requests/s); restarting the server`);
  const server = await startServer("durable", dataDir);
  try {
    const report = await measureLs(MODULATE, server.url, server.process.pid, runs, log);
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
