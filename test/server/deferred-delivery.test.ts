// A task deferred with `resonate:delay` is not work yet: a member that connects before that
// moment is offered the group's pending work, but not it. (A job's queue-timeout call is
// deferred to the job's queue deadline; offered early, it ended jobs before their time.)
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { send } from "../helpers/protocol-client.ts";

const servers: RunningServer[] = [];
const streams: AbortController[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.abort();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The ids of the execute messages a new member of `group` is sent within `ms`. */
async function offeredOnConnect(url: string, group: string, ms: number): Promise<string[]> {
  const stop = new AbortController();
  streams.push(stop);
  const res = await fetch(`${url}/poll/${group}/member-1`, { signal: stop.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) break;
    const chunk: Awaited<ReturnType<typeof reader.read>> | undefined = await Promise.race([
      reader.read(),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), left)),
    ]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value as Uint8Array, { stream: true });
  }
  stop.abort();
  return [...text.matchAll(/"task":\{"id":"([^"]+)"/g)].map((m) => m[1] ?? "");
}

describe("deferred delivery", () => {
  it("offers a connecting member the group's pending work, but not a task deferred past now", async () => {
    const server = await startServer({ host: "127.0.0.1", port: 0 });
    servers.push(server);
    const now = Date.now();
    const create = (id: string, tags: Record<string, string>) =>
      send(server.url, "promise.create", {
        id,
        timeoutAt: now + 600_000,
        param: { headers: {}, data: "" },
        tags: { "resonate:target": "poll://any@g", ...tags },
      });
    expect((await create("due-now", {})).status).toBe(200);
    expect((await create("later", { "resonate:delay": String(now + 300_000) })).status).toBe(200);
    expect((await create("was-deferred", { "resonate:delay": String(now - 1) })).status).toBe(200);

    const offered = await offeredOnConnect(server.url, "g", 1_000);
    expect(offered).toContain("due-now");
    expect(offered).toContain("was-deferred");
    expect(offered).not.toContain("later");
  });
});
