// The release: one executable, copied alone into an empty directory, answers --version and
// serves the SDK's flows as `modulate server`.
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resonate } from "@resonatehq/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import { NODE, ROOT, start, stopAll, tempDir } from "../helpers/processes.ts";

let binary = "";
const clients: Resonate[] = [];

beforeAll(() => {
  execFileSync(NODE, [join(ROOT, "release", "build.ts")], { cwd: ROOT, stdio: "pipe" });
  binary = join(tempDir("modulate-release-"), "modulate");
  copyFileSync(join(ROOT, "release", `modulate-linux-${process.arch}`), binary);
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await stopAll();
});

describe("the single executable", () => {
  it("prints its version from an empty directory", () => {
    const out = execFileSync(binary, ["--version"], {
      cwd: tempDir(),
      env: { PATH: "/usr/bin:/bin" },
    });
    expect(out.toString().trim()).toBe(packageJson.version);
  });

  it("runs a JavaScript job end to end as modulate dev, through its own script host", async () => {
    const dir = tempDir();
    const script = join(dir, "job.mjs");
    writeFileSync(
      script,
      "await Promise.resolve();\nconsole.log('hello from', process.argv.length > 1 ? 'a module' : '?');\n",
    );
    const dev = start(binary, ["dev", "--in-memory", "--port", "0", "--try", script], {
      PATH: "/usr/bin:/bin",
      HOME: dir,
    });
    expect(await dev.exited()).toBe(0);
    expect(dev.output()).toContain("hello from a module");
    expect(dev.output()).not.toContain("ExperimentalWarning");
  });

  it("serves an rpc between two groups as modulate server", async () => {
    const server = start(binary, ["server", "--port", "0", "--data", join(tempDir(), "data")], {
      PATH: "/usr/bin:/bin",
    });
    const url = (await server.waitFor(/listening on (http:\/\/\S+)/))[1] ?? "";
    const worker = new Resonate({ url, group: "b", logLevel: "error" });
    const caller = new Resonate({ url, group: "a", logLevel: "error" });
    clients.push(worker, caller);
    worker.register("square", (_ctx, n: number) => n * n);
    expect(await caller.rpc("square-1", "square", 12, caller.options({ target: "b" }))).toBe(144);
  });
});
