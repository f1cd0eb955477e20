// The checking proxy in front of a real `modulate server`: a refusal is answered as the real
// Resonate server answers it and never reaches the server; an accepted request and a poll
// stream pass through, the stream's events as they happen.
import { afterEach, describe, expect, it } from "vitest";
import { startServerProcess, stopAll } from "../helpers/processes.ts";
import { openPoll, send, type PollStream } from "../helpers/protocol-client.ts";
import { checkingProxy, type CheckingProxy } from "../helpers/protocol-profiles/checking-proxy.ts";
import { PROFILES } from "../helpers/protocol-profiles/profiles.ts";

const proxies: CheckingProxy[] = [];
const streams: PollStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await stopAll();
});

async function behind(profile: keyof typeof PROFILES, mode?: "observe") {
  const server = await startServerProcess(["--in-memory"]);
  const proxy = await checkingProxy(server.url, PROFILES[profile], mode ? { mode } : {});
  proxies.push(proxy);
  return { server, proxy };
}

const farFuture = (): number => Date.now() + 600_000;

describe("the checking proxy", () => {
  it("answers a refusal in the real server's shape, with the same HTTP status, and forwards nothing", async () => {
    const { server, proxy } = await behind("c8d7c7b");
    const id = "modulate-execute.job-1";
    const tags = { "resonate:origin": id, "resonate:branch": id, "resonate:parent": id };
    const res = await fetch(`${proxy.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        kind: "promise.create",
        head: { corrId: "c-7", version: "2026-04-01" },
        data: { id, timeoutAt: farFuture(), param: {}, tags },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      kind: "promise.create",
      head: { corrId: "c-7", status: 400, version: "2026-04-01" },
      data: "resonate:origin must not contain '.'",
    });
    expect(proxy.count("dot_in_origin", "promise.create")).toBe(1);
    expect(proxy.refused).toEqual([
      expect.objectContaining({ kind: "promise.create", id, rule: "dot_in_origin" }),
    ]);
    expect((await send(server.url, "promise.get", { id })).status).toBe(404);
  });

  it("passes what the profile accepts to the server, and counts it by kind", async () => {
    const { server, proxy } = await behind("c8d7c7b");
    const tags = {
      "resonate:origin": "job-1",
      "resonate:parent": "job-1",
      "resonate:branch": "job-1.x",
    };
    const made = await send(proxy.url, "promise.create", {
      id: "job-1.x",
      timeoutAt: farFuture(),
      tags,
    });
    expect(made.status).toBe(200);
    expect((await send(server.url, "promise.get", { id: "job-1.x" })).status).toBe(200);
    expect(proxy.seen.get("promise.create")).toBe(1);
    expect(proxy.refused).toEqual([]);
  });

  it("in observe mode, records a refusal and forwards the request anyway", async () => {
    const { server, proxy } = await behind("c8d7c7b", "observe");
    const tags = { "resonate:origin": "a.b" };
    expect(
      (await send(proxy.url, "promise.create", { id: "a.b", timeoutAt: farFuture(), tags })).status,
    ).toBe(200);
    expect(proxy.count("dot_in_origin")).toBe(1);
    expect((await send(server.url, "promise.get", { id: "a.b" })).status).toBe(200);
  });

  it("streams a poll connection's events as they happen, not when the stream ends", async () => {
    const { proxy } = await behind("v0.9.8");
    const stream = await openPoll(proxy.url, "g", "p1");
    streams.push(stream);
    const tags = { "resonate:target": "poll://any@g" };
    const made = await send(proxy.url, "promise.create", {
      id: "t1",
      timeoutAt: farFuture(),
      tags,
    });
    expect(made.status).toBe(200);
    await stream.until((messages) => messages.some((m) => m.data.task?.id === "t1"));
  });
});
