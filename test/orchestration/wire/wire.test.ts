// How failures to use the server read: unreachable, refused credentials, refused requests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ExitCode, UserError } from "../../../src/common/errors.ts";
import { createTransport, ServerUnavailable } from "../../../src/orchestration/wire/transport.ts";
import {
  abortableSleep,
  isUnreachable,
  request,
  requestSender,
  unreachable,
} from "../../../src/orchestration/wire/wire.ts";

let server: Server | undefined;
afterEach(() => server?.close());

/** A stand-in for a server that answers every request with one HTTP status. */
async function answering(status: number, body = '"no"'): Promise<string> {
  server = createServer((_req, res) =>
    res.writeHead(status, { "content-type": "application/json" }).end(body),
  );
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(url: string): Promise<UserError> {
  const error: unknown = await requestSender(
    { url },
    2_000,
  )(request("promise.get", { id: "x" })).catch((e: unknown) => e);
  if (!(error instanceof UserError)) throw new Error(`expected a UserError, got ${String(error)}`);
  return error;
}

describe("failures to use the server", () => {
  it("says the server cannot be reached when nothing listens", async () => {
    const error = await failure("http://127.0.0.1:1");
    expect(error.exitCode).toBe(ExitCode.unreachable);
    expect(error.message).toMatch(/^cannot reach the Resonate server at http:\/\/127.0.0.1:1/);
  });

  it("points at the token when the server refuses credentials, as a refusal (exit 5), not as unreachable", async () => {
    const error = await failure(await answering(401));
    expect(error.message).toMatch(/refused our credentials \(HTTP 401.*check --token/);
    expect(error.exitCode).toBe(ExitCode.refused);
  });

  it("says what the token does not allow, in the server's words, as a refusal", async () => {
    const body = JSON.stringify({
      kind: "promise.get",
      head: { status: 403 },
      data: "id t2-x is outside the token's prefix t1-",
    });
    const error = await failure(await answering(403, body));
    expect(error.message).toMatch(
      /does not allow this to our token \(HTTP 403: id t2-x is outside the token's prefix t1-\): use ids inside/,
    );
    expect(error.exitCode).toBe(ExitCode.refused);
  });

  it("gives the server's reason for a request it judged invalid, as a refusal nothing retries", async () => {
    const body = JSON.stringify({
      kind: "task.fence",
      head: { status: 400 },
      data: "Promise ID must be prefixed by resonate:origin",
    });
    const error = await failure(await answering(400, body));
    expect(error.message).toMatch(
      /refused the request as invalid \(HTTP 400: Promise ID must be prefixed by resonate:origin\)/,
    );
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(isUnreachable(error)).toBe(false);
  });

  it("says the server refused a request it answered with a status outside the protocol", async () => {
    const error = await failure(await answering(500));
    expect(error.message).toMatch(/refused the request \(HTTP 500/);
    expect(error.exitCode).toBe(ExitCode.unreachable);
  });

  it("says what answers is not a Resonate server when its answer is not the protocol's", async () => {
    // A web server on the port: its 404 page is an HTTP answer, but not the protocol's JSON.
    const error = await failure(await answering(404, "<html>Not Found</html>"));
    expect(error.exitCode).toBe(ExitCode.unreachable);
    expect(error.message).toMatch(
      /^what answers at http:\/\/127.0.0.1:\d+ is not a Resonate server/,
    );
  });

  it("points at the token when the server refuses the poll stream", async () => {
    const url = await answering(401);
    const transport = createTransport({ url }, 2_000);
    try {
      const error: unknown = await transport.stream("/poll/g/p").catch((e: unknown) => e);
      if (!(error instanceof ServerUnavailable)) throw new Error(`got ${String(error)}`);
      expect(error.why).toEqual({ kind: "status", status: 401 });
      expect(unreachable({ url }, error).message).toMatch(/refused our credentials/);
    } finally {
      transport.close();
    }
  });
});

describe("abortableSleep", () => {
  it("ends at once, holding no timer, when its signal fired before it began", async () => {
    vi.useFakeTimers();
    try {
      const stop = new AbortController();
      stop.abort();
      await abortableSleep(60_000, stop.signal);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("ends when its signal fires", async () => {
    vi.useFakeTimers();
    try {
      const stop = new AbortController();
      const sleeping = abortableSleep(60_000, stop.signal);
      expect(vi.getTimerCount()).toBe(1);
      stop.abort();
      await sleeping;
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
