// The server's front (its sockets, poll streams, /health) never waits on a request's value:
// values are measured, parsed, stored and encoded on the engine's thread, and the front only
// hands bytes over (issue 12, item 5). Tested as the issue asks, with a probe: /health is asked
// every few milliseconds while 8 MB values are created and read back. The probe's slowest
// answer is compared with the time those requests take, not with a fixed figure, so that a
// slower machine does not fail it; on one thread the probe waited as long as a copy of the
// value took, a large part of each request.
import { request, Agent } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { stopAll } from "../helpers/processes.ts";
import { serverProcess } from "./server-process.ts";

afterEach(stopAll);

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** POSTs ready bytes and counts the answer's bytes without decoding them. */
function post(url: string, body: Buffer): Promise<{ status: number; bytes: number; ms: number }> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/`,
      { method: "POST", agent, headers: { "content-length": body.length } },
      (res) => {
        let bytes = 0;
        res.on("data", (chunk: Buffer) => (bytes += chunk.length));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - startedAt }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function health(url: string): Promise<number> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(performance.now() - startedAt));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Bodies built before the probe starts, so that the test's own JSON work does not delay it. */
function bigValueRequests(id: string): { create: Buffer; get: Buffer } {
  const data = Buffer.alloc(6 * 1024 * 1024, id).toString("base64");
  const head = { corrId: id, version: "2026-04-01" };
  return {
    create: Buffer.from(
      JSON.stringify({
        kind: "promise.create",
        head,
        data: { id, timeoutAt: Date.now() + 3_600_000, param: { headers: {}, data }, tags: {} },
      }),
    ),
    get: Buffer.from(JSON.stringify({ kind: "promise.get", head, data: { id } })),
  };
}

describe("the server's front", () => {
  it("answers /health at once while 8 MB values are stored and read", async () => {
    const server = await serverProcess();
    const bodies = ["big-1", "big-2", "big-3"].map(bigValueRequests);
    // Warm-up: the first request of a process pays for compiling its code.
    await health(server.url);

    const probeMs: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        probeMs.push(await health(server.url));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const requestMs: number[] = [];
    for (const { create, get } of bodies) {
      const created = await post(server.url, create);
      expect(created.status).toBe(200);
      const got = await post(server.url, get);
      expect(got.status).toBe(200);
      expect(got.bytes).toBeGreaterThan(8_000_000);
      requestMs.push(created.ms, got.ms);
    }
    probing = false;
    await probe;

    const slowestProbeMs = Math.max(...probeMs);
    const typicalRequestMs = requestMs.sort((a, b) => a - b)[Math.floor(requestMs.length / 2)] ?? 0;
    expect(probeMs.length).toBeGreaterThan(10);
    expect(
      slowestProbeMs,
      `slowest /health ${slowestProbeMs.toFixed(1)} ms against a typical 8 MB request of ${typicalRequestMs.toFixed(1)} ms`,
      // On one thread the slowest probe was 1.4x a request; with the engine on its own thread
      // it stayed under a quarter on a quiet machine, and reached a third with the machine's
      // two cores shared by five busy processes (the probe's time is wall time, scheduling
      // included): half tells the two layouts apart on either.
    ).toBeLessThan(typicalRequestMs / 2);
  }, 120_000);
});
