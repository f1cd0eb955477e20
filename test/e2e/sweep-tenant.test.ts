// A tenant's sweep under a token scoped to a prefix (issue 17): the sweep's id and its jobs'
// (`t1-sw.1`, ...) stay inside the prefix, and where the server refuses the tenant a search,
// `get` reads the sweep's jobs by their names.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startRouterProcess, startWorkerProcess } from "../helpers/cluster.ts";
import { MODULATE, start, startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";
import { ed25519KeyPair, signJwt } from "../server/jwt-helper.ts";

afterEach(stopAll);

const keys = ed25519KeyPair();
const token = (claims: Record<string, unknown>): string =>
  signJwt(
    { alg: "EdDSA", typ: "JWT" },
    { exp: Math.floor(Date.now() / 1000) + 3600, ...claims },
    keys.privateKey,
  );

describe("a tenant's sweep", () => {
  it("runs inside its prefix, and get reads it without a search", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "auth.pub");
    writeFileSync(keyFile, keys.publicKeyPem);
    const server = await startServerProcess(["--in-memory", "--auth-public-key", keyFile]);
    const admin = token({ role: "admin" });
    await startRouterProcess(server.url, ["--token", admin]);
    await startWorkerProcess(server.url, "g", tempDir(), ["--token", admin]);
    const ok = join(dir, "ok.py");
    writeFileSync(ok, 'print("ok")\n');
    const bad = join(dir, "bad.py");
    writeFileSync(bad, "import sys\nsys.exit(3)\n");
    const t1 = token({ prefix: "t1-" });
    const as = (...args: string[]) =>
      start(MODULATE, [...args, "--url", server.url, "--token", t1]);

    const submit = as("submit", ok, bad, ok, "--group", "g", "--id", "t1-sw", "--wait");
    expect(await submit.exited()).toBe(1);
    expect(submit.output()).toContain("2/3 done, 1 failed");
    expect(submit.output()).toMatch(/t1-sw\.2\s+failed\s+3\s+bad\.py/);

    const logs = as("logs", "t1-sw.3");
    expect(await logs.exited()).toBe(0);
    expect(logs.output()).toContain("ok");

    const outside = as("submit", ok, ok, "--group", "g", "--id", "t2-sw");
    expect(await outside.exited()).toBe(5);
  }, 120_000);
});
