// `modulate server` argument handling, through the real parser: bad input is one line and
// exit code 2, and nothing starts.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.ts";
import type { CliContext } from "../../src/modes/command.ts";

function context(): CliContext & { err: () => string; out: () => string; stop: () => void } {
  let out = "";
  let err = "";
  const controller = new AbortController();
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: {},
    signal: controller.signal,
    err: () => err,
    out: () => out,
    stop: () => controller.abort(),
  };
}

describe("modulate server arguments", () => {
  it.each([
    [
      ["--host", "0.0.0.0"],
      /would expose the server without authentication: add --token or --auth-public-key/,
    ],
    [["--retain", "forever"], /--retain "forever" is not a duration/],
    [["--max-body", "lots"], /--max-body "lots" is not a size/],
    [["--port", "70000"], /--port 70000 is not a port/],
    [
      ["--auth-public-key", "/nonexistent/key.pem"],
      /cannot read public key file '\/nonexistent\/key.pem'/,
    ],
    [["--token", "a", "--auth-public-key", "/x.pem"], /both given|pick one/],
  ])("refuses %j with one line and exit code 2", async (args, message) => {
    const ctx = context();
    expect(await main(["server", "--in-memory", ...args], ctx)).toBe(2);
    expect(ctx.err()).toMatch(message);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.out()).toBe("");
  });

  it("says which port is in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const ctx = context();
    try {
      expect(await main(["server", "--in-memory", "--port", String(port)], ctx)).toBe(2);
      expect(ctx.err()).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });

  it("binds any address when a token is set, and stops on the signal", async () => {
    const ctx = context();
    const running = main(
      ["server", "--in-memory", "--port", "0", "--host", "0.0.0.0", "--token", "t0k"],
      ctx,
    );
    for (let i = 0; i < 200 && !ctx.out().includes("listening"); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(ctx.out()).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+/);
    ctx.stop();
    expect(await running).toBe(0);
  });
});
