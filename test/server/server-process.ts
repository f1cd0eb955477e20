// Starts server-child.ts as a process of its own; stop it with stopAll() from processes.ts.
import { join } from "node:path";
import { NODE, ROOT, start, type Spawned } from "../helpers/processes.ts";

export interface ChildServer {
  process: Spawned;
  url: string;
  port: number;
}

export async function serverProcess(
  options: { token?: string; maxBodyBytes?: number; bodyTimeoutMs?: number } = {},
): Promise<ChildServer> {
  const script = join(ROOT, "test", "server", "server-child.ts");
  const p = start(NODE, [script, JSON.stringify(options)]);
  const match = await p.waitFor(/listening on (http:\/\/\S+)/);
  const url = match[1] ?? "";
  return { process: p, url, port: Number(new URL(url).port) };
}

export function isAlive(p: Spawned): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}
