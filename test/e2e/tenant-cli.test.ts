// A tenant with a JWT scoped to a prefix uses the CLI as anyone else does: its jobs' ids, and
// the address its client listens on for their ends, stay inside its prefix; what the server
// refuses it is said in the server's words with exit 5, never waited on.
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

async function cluster(): Promise<string> {
  const dir = tempDir();
  const keyFile = join(dir, "auth.pub");
  writeFileSync(keyFile, keys.publicKeyPem);
  const server = await startServerProcess(["--data", tempDir(), "--auth-public-key", keyFile]);
  const admin = token({ role: "admin" });
  await startRouterProcess(server.url, ["--token", admin]);
  await startWorkerProcess(server.url, "g", tempDir(), ["--token", admin]);
  return server.url;
}

function script(sleepSeconds = 0): string {
  const file = join(tempDir(), "hello.py");
  writeFileSync(file, `import time\ntime.sleep(${sleepSeconds})\nprint("hello from t1")\n`);
  return file;
}

describe("a tenant's CLI under a prefixed token", () => {
  it("waits for its own job and gets its output", async () => {
    const url = await cluster();
    const t1 = token({ prefix: "t1-" });
    const submit = start(MODULATE, [
      "submit",
      script(),
      "--group",
      "g",
      "--id",
      "t1-job-1",
      "--url",
      url,
      "--token",
      t1,
    ]);
    const code = await submit.exited();
    expect(submit.output()).toContain("hello from t1");
    expect(code).toBe(0);
    expect(submit.output()).toContain("hello from t1");
  });

  it("gets, follows and cancels its own jobs by id", async () => {
    const url = await cluster();
    const t1 = token({ prefix: "t1-" });
    const as = (...args: string[]) => start(MODULATE, [...args, "--url", url, "--token", t1]);
    // Still running when get first looks: who runs it takes searches a prefix may not make.
    const detached = as("submit", script(1), "--group", "g", "--id", "t1-job-2", "--detach");
    expect(await detached.exited()).toBe(0);
    const got = as("get", "t1-job-2", "--wait", "--json");
    expect(await got.exited()).toBe(0);
    expect(got.output()).toContain('"state":"succeeded"');
    const logs = as("logs", "t1-job-2");
    expect(await logs.exited()).toBe(0);
    expect(logs.output()).toContain("hello from t1");
    const cancel = as("cancel", "t1-job-2");
    expect(await cancel.exited()).toBe(0);
    expect(cancel.output()).toMatch(/already ended/);
  });

  it("is told, with exit 5 and the server's reason, when it names a job outside its prefix", async () => {
    const url = await cluster();
    const t1 = token({ prefix: "t1-" });
    const get = start(MODULATE, ["get", "t2-job", "--wait", "--url", url, "--token", t1]);
    expect(await get.exited()).toBe(5);
    expect(get.output()).toMatch(/does not allow this to our token \(HTTP 403: .*t2-job/);
  });
});
