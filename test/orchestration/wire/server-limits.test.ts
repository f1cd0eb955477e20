// What a client knows of its server's request limit: what the server announces on its answers,
// 2 MiB for one that announces nothing (the Resonate server), and the submission checked
// against it before anything is sent.
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BODY_BYTES,
  MAX_BODY_HEADER,
  UNANNOUNCED_MAX_BODY_BYTES,
} from "../../../src/common/limits.ts";
import { ModulateClient } from "../../../src/orchestration/client.ts";
import { ServerLimits } from "../../../src/orchestration/wire/server-limits.ts";
import { startServer, type RunningServer } from "../../../src/server/server.ts";
import { jobSpec } from "../../helpers/cluster.ts";

const servers: RunningServer[] = [];
const clients: ModulateClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("ServerLimits", () => {
  it("takes the limit an answer announces, 2 MiB when it announces none, the default before", () => {
    const limits = new ServerLimits();
    expect([limits.known, limits.maxBodyBytes()]).toEqual([false, DEFAULT_MAX_BODY_BYTES]);
    limits.noteAnswer({ [MAX_BODY_HEADER]: "4194304" });
    expect([limits.known, limits.maxBodyBytes()]).toEqual([true, 4 * 1024 * 1024]);
    limits.noteAnswer({});
    expect(limits.maxBodyBytes()).toBe(UNANNOUNCED_MAX_BODY_BYTES);
    limits.noteAnswer({ [MAX_BODY_HEADER]: "lots" });
    expect(limits.maxBodyBytes()).toBe(UNANNOUNCED_MAX_BODY_BYTES);
  });
});

async function clientOf(maxBodyBytes: number): Promise<ModulateClient> {
  const server = await startServer({ host: "127.0.0.1", port: 0, maxBodyBytes });
  servers.push(server);
  const client = new ModulateClient({ url: server.url });
  clients.push(client);
  return client;
}

/** A script of about `bytes` that python would run. */
function bigScript(bytes: number): { name: string; content: string } {
  return { name: "big.py", content: `# ${"x".repeat(bytes)}\nprint("ok")\n` };
}

describe("a large submission", () => {
  it("is refused before sending when over the limit the server announces, naming it", async () => {
    const client = await clientOf(4 * 1024 * 1024);
    const spec = { ...jobSpec("quick.py"), script: bigScript(3_500_000) };
    await expect(client.submit(spec, 60_000)).rejects.toThrow(
      /over the server's request limit of 4 MiB \(modulate server --max-body; a Resonate server takes 2 MiB\).*nothing was submitted$/,
    );
    await expect(client.getJob(spec.id)).rejects.toThrow(/no such job/);
  });

  it("is sent when the server announces a limit it fits in, above what every server takes", async () => {
    const client = await clientOf(DEFAULT_MAX_BODY_BYTES);
    const spec = { ...jobSpec("quick.py"), script: bigScript(1_800_000) };
    await expect(client.submit(spec, 60_000)).resolves.toEqual({ id: spec.id, existing: false });
  });
});
