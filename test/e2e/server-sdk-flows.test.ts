// The SDK's own flows between separate processes, through `modulate server`: rpc from one
// group to another by target, detached work, durable sleep, and schedules.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Resonate } from "@resonatehq/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  eventually,
  NODE,
  ROOT,
  start,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

const FIXTURE = join(ROOT, "test", "fixtures", "sdk", "group-process.mjs");
const clients: Resonate[] = [];

async function startGroup(url: string, group: string, tickFile?: string): Promise<void> {
  const p = start(NODE, [FIXTURE, url, group, ...(tickFile ? [tickFile] : [])]);
  await p.waitFor(new RegExp(`ready ${group}`));
}

function client(url: string): Resonate {
  const resonate = new Resonate({ url, group: "client", logLevel: "error" });
  clients.push(resonate);
  return resonate;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await stopAll();
});

describe("SDK flows against modulate server", () => {
  it("runs an rpc from group a that calls group b by target", async () => {
    const server = await startServerProcess();
    await startGroup(server.url, "a");
    await startGroup(server.url, "b");
    const result = await client(server.url).rpc(
      "greet-1",
      "greet",
      "world",
      client(server.url).options({ target: "a" }),
    );
    expect(result).toBe("hello WORLD!");
  });

  it("returns the same result for the same id without running it again", async () => {
    const server = await startServerProcess();
    await startGroup(server.url, "a");
    await startGroup(server.url, "b");
    const c = client(server.url);
    const first = await c.rpc("greet-2", "greet", "one", c.options({ target: "a" }));
    const second = await c.rpc("greet-2", "greet", "two", c.options({ target: "a" }));
    expect(second).toBe(first);
  });

  it("lets detached work finish after its caller returned", async () => {
    const server = await startServerProcess();
    await startGroup(server.url, "a");
    await startGroup(server.url, "b");
    const c = client(server.url);
    const detachedId = await c.rpc<string>(
      "launch-1",
      "launch",
      "later",
      c.options({ target: "a" }),
    );
    const handle = await c.get<string>(detachedId);
    expect(await handle.result()).toBe("LATER!");
  });

  it("sleeps durably on the server's timer", async () => {
    const server = await startServerProcess();
    await startGroup(server.url, "a");
    const c = client(server.url);
    const slept = await c.rpc<number>("nap-1", "nap", 1_500, c.options({ target: "a" }));
    expect(slept).toBeGreaterThanOrEqual(1_400);
  });

  it("fires a schedule until it is deleted", async () => {
    const server = await startServerProcess();
    const tickFile = join(tempDir(), "ticks");
    await startGroup(server.url, "a", tickFile);
    const c = client(server.url);
    const schedule = await c.schedule(
      "every-second",
      "* * * * * *",
      "tick",
      c.options({ target: "a" }),
    );
    const lines = (): number =>
      existsSync(tickFile) ? readFileSync(tickFile, "utf8").trim().split("\n").length : 0;
    await eventually(() => (lines() >= 2 ? true : undefined), "two schedule firings");
    await schedule.delete();
  });
});
