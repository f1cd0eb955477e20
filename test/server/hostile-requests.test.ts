// Nothing a request carries may end the server: malformed targets, methods, headers and bodies
// sent over raw sockets to a server in a process of its own, which must still answer after.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { stopAll } from "../helpers/processes.ts";
import { send } from "../helpers/protocol-client.ts";
import { isAlive, serverProcess } from "./server-process.ts";

afterEach(stopAll);

/**
 * Writes `bytes` on a fresh connection and returns what came back by the time the server
 * answered something, closed, or `waitMs` passed (a poll stream never ends by itself).
 */
function exchange(port: number, bytes: Buffer, waitMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(received).toString("latin1"));
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      done();
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.write(bytes);
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

/** A small seeded generator, so that a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "CONNECT", "get", "P0ST", ""];
const TARGETS = [
  "/",
  "/health",
  "/ready",
  "/poll/g/p",
  "/poll/%ZZ/x",
  "/poll/g/%",
  "/poll/%E0%A4%A/x",
  "/poll/%ED%A0%80/x",
  "/poll/%C0%AF/%FF",
  "http://[::1",
  "http://[::1]/poll/%/x",
  "http://h:99999/health",
  "http://%zz/",
  "*",
  "//",
  "/poll//",
  "/poll/a/b/c",
  "/%",
  "/%00",
  "/..%2f..%2f",
  "/" + "a".repeat(20_000),
];
const HEADERS = [
  "content-length: 0",
  "content-length: -1",
  "content-length: abc",
  "content-length: 99999999999999999999999",
  "content-length: 5, 7",
  "content-length: 12\r\ncontent-length: 3",
  "transfer-encoding: chunked",
  "transfer-encoding: gzip, chunked",
  "transfer-encoding: chunked, chunked",
  "authorization: Bearer %ZZ",
  "authorization: Bearer ",
  "authorization: Basic \u00ff\u00fe",
  "expect: 100-continue",
  "expect: nonsense",
  "host: [::1",
  "connection: upgrade\r\nupgrade: websocket",
  "x-long: " + "b".repeat(20_000),
  "bad header name: x",
  "x-ctl: a\u0001b",
];
const BODIES = [
  "",
  "{",
  '{"kind":"constructor","head":{"corrId":"1","version":"v"},"data":{}}',
  '{"kind":"__proto__","head":{"corrId":"1","version":"v"},"data":{}}',
  '{"kind":"promise.get","head":{"corrId":"1","version":"v"},"data":{"id":"\\ud800"}}',
  '{"kind":"promise.search","head":{"corrId":"1","version":"v"},"data":{"cursor":"%%"}}',
  "[".repeat(5_000),
  "0\r\n\r\n",
  "zz\r\nxx\r\n",
  "5\r\nab",
];

function pick<T>(next: () => number, from: readonly T[]): T {
  return from[Math.floor(next() * from.length)];
}

function randomText(next: () => number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * 256));
  return text;
}

/** A target with a few random percent-escapes, bytes and characters spliced in. */
function mutate(next: () => number, target: string): string {
  const splices = ["%", "%Z", "%E0%A4", "%ED%B0%80", "%%", "[", "\u00ff", "?#", "/", "%2F"];
  let mutated = target;
  for (let i = Math.floor(next() * 3); i > 0; i--) {
    const at = Math.floor(next() * (mutated.length + 1));
    const splice = next() < 0.2 ? randomText(next, 3) : pick(next, splices);
    mutated = mutated.slice(0, at) + splice + mutated.slice(at);
  }
  return mutated;
}

function hostileRequest(next: () => number): Buffer {
  const method = next() < 0.05 ? randomText(next, 4) : pick(next, METHODS);
  const target = mutate(next, pick(next, TARGETS));
  const headers: string[] = [];
  for (let i = Math.floor(next() * 4); i > 0; i--) headers.push(pick(next, HEADERS));
  if (next() < 0.1) headers.push(`x-${randomText(next, 5)}: ${randomText(next, 8)}`);
  const body = next() < 0.05 ? randomText(next, 64) : pick(next, BODIES);
  const version =
    next() < 0.05 ? pick(next, ["HTTP/1.0", "HTTP/2.0", "HTTP/9", "XYZ"]) : "HTTP/1.1";
  const head = `${method} ${target} ${version}\r\nhost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
  return Buffer.from(head + body, "latin1");
}

async function sendAll(port: number, requests: Buffer[], parallel: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < requests.length) {
        const request = requests[next++];
        if (request) await exchange(port, request);
      }
    }),
  );
}

describe.each([
  ["without a token", undefined],
  ["with --token", "s3cret"],
])("a server %s", (_name, token) => {
  it.each([
    ["a percent-escape that is not hex", "GET /poll/%ZZ/x HTTP/1.1"],
    ["a lone percent sign", "GET /poll/g/% HTTP/1.1"],
    ["a truncated UTF-8 escape", "GET /poll/%E0%A4%A/x HTTP/1.1"],
    ["an absolute-form target that is not a URL", "GET http://[::1 HTTP/1.1"],
  ])("answers %s with 400 and keeps running", async (_case, requestLine) => {
    const server = await serverProcess(token === undefined ? {} : { token });
    const answer = await exchange(
      server.port,
      Buffer.from(`${requestLine}\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`),
      5_000,
    );
    expect(statusOf(answer)).toBe(400);
    expect(isAlive(server.process)).toBe(true);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("survives a few thousand random malformed requests and still answers", async () => {
    const server = await serverProcess(token === undefined ? {} : { token });
    const next = random(token ? 12 : 11);
    const requests = Array.from({ length: 2_000 }, () => hostileRequest(next));
    await sendAll(server.port, requests, 32);
    expect(isAlive(server.process)).toBe(true);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const answer = await send(server.url, "promise.get", { id: "after-the-storm" }, token);
    expect(answer.status).toBe(404);
  }, 120_000);
});
