// Tokens minted with `modulate token` work end to end: the server verifies them with the public
// half the same command printed, a router and a worker run on an operator's token, a tenant
// submits with its own; a token the server cannot trust is refused with exit 5 and the server's
// reason. Everything runs as real processes; only the expired token is minted in this process,
// at a clock two days back, since the command mints from now.
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runToken, tokenCommand } from "../../src/modes/token.ts";
import { startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { MODULATE, start, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "../modes/capture-context.ts";
import { argsOf } from "../modes/mode-args.ts";

afterEach(stopAll);

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const DAY_MS = 86_400_000;

/** A fresh Ed25519 private key in a PEM file, as `openssl genpkey -algorithm ed25519` writes. */
function privateKeyFile(): string {
  const file = join(tempDir(), "jwt.pem");
  const { privateKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }));
  return file;
}

async function modulate(...args: string[]): Promise<{ code: number | null; out: string }> {
  const p = start(MODULATE, args);
  const code = await p.exited();
  return { code, out: p.output() };
}

async function mint(key: string, ...args: string[]): Promise<string> {
  const { code, out } = await modulate("token", "--key", key, ...args);
  expect(code).toBe(0);
  expect(out.trim()).toMatch(JWT);
  return out.trim();
}

/** `modulate server` checking JWTs with the public half `modulate token --public-key` printed. */
async function serverFor(key: string): Promise<string> {
  const { code, out } = await modulate("token", "--key", key, "--public-key");
  expect(code).toBe(0);
  const publicKeyFile = join(tempDir(), "jwt.pub");
  writeFileSync(publicKeyFile, out);
  const server = await startServerProcess([
    "--data",
    tempDir(),
    "--auth-public-key",
    publicKeyFile,
  ]);
  return server.url;
}

function script(): string {
  const file = join(tempDir(), "hello.py");
  writeFileSync(file, 'print("hello from t1")\n');
  return file;
}

describe("tokens minted by modulate token, on modulate server", () => {
  it("run a router and a worker as the operator, and a tenant's job under its prefix", async () => {
    const key = privateKeyFile();
    const url = await serverFor(key);
    const admin = await mint(key, "--admin");
    await startRouterProcess(url, ["--token", admin]);
    await startWorkerProcess(url, "g", tempDir(), ["--token", admin]);

    const tenant = await mint(key, "--prefix", "t1-", "--ttl", "1h");
    const submit = await modulate(
      "submit",
      script(),
      "--group",
      "g",
      "--id",
      "t1-job-1",
      "--url",
      url,
      "--token",
      tenant,
    );
    expect(submit.out).toContain("hello from t1");
    expect(submit.code).toBe(0);

    // The operator's token may search: ls finds the tenant's job among all jobs.
    const ls = await modulate("ls", "--all", "--url", url, "--token", admin);
    expect(ls.code).toBe(0);
    expect(ls.out).toContain("t1-job-1");
    // A tenant's may not: searches reach past any prefix, so the server refuses them.
    const tenantLs = await modulate("ls", "--all", "--url", url, "--token", tenant);
    expect(tenantLs.code).toBe(5);
    expect(tenantLs.out).toMatch(/does not allow this to our token \(HTTP 403/);
  });

  it("refuse a token signed by another key: exit 5 with the server's reason", async () => {
    const url = await serverFor(privateKeyFile());
    const forged = await mint(privateKeyFile(), "--admin");
    const get = await modulate("get", "t1-job-1", "--url", url, "--token", forged);
    expect(get.code).toBe(5);
    expect(get.out).toMatch(/refused our credentials \(HTTP 401: token signature does not match/);
  });

  it("refuse a token past its exp: exit 5 with the server's reason", async () => {
    const key = privateKeyFile();
    const url = await serverFor(key);
    const ctx = captureContext();
    const args = await argsOf(tokenCommand, ["--key", key, "--prefix", "t1-", "--ttl", "1d"]);
    expect(await runToken(args, ctx, { clock: () => Date.now() - 2 * DAY_MS })).toBe(0);
    const expired = ctx.out().trim();
    const get = await modulate("get", "t1-job-1", "--url", url, "--token", expired);
    expect(get.code).toBe(5);
    expect(get.out).toMatch(/refused our credentials \(HTTP 401: token expired at \S+Z\)/);
  });
});
