// The script host runs in a child node, as the sandbox runs it: it rewrites process.argv.
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseScriptHostArgv } from "../../src/sandbox/script-host.ts";
import { FIXTURES, makeSandbox, runFixture } from "./harness.ts";

const HOST = path.resolve("src/sandbox/script-host.ts");

async function host(file: string, args: string[]): Promise<string> {
  const code = `const { runScriptFile } = await import(${JSON.stringify(HOST)}); await runScriptFile(process.argv[1], process.argv.slice(2));`;
  const result = await execa(process.execPath, [
    "--input-type=module",
    "-e",
    code,
    path.join(FIXTURES, file),
    ...args,
  ]);
  return result.stdout;
}

describe("runScriptFile", () => {
  it("loads an ES module with top-level await and hands it its arguments", async () => {
    expect(await host("esm.mjs", ["--lr", "0.1"])).toBe("esm 42 --lr 0.1");
  });

  it("loads a CommonJS script with require and __filename", async () => {
    expect(await host("common.cjs", ["x"])).toBe("cjs common.cjs x");
  });
});

describe("JavaScript and #! jobs", () => {
  it("run in the sandbox with their arguments", async () => {
    const sandbox = await makeSandbox({ sandbox: "none", cgroups: false });
    try {
      expect((await runFixture(sandbox.config, "esm.mjs", { args: ["a"] })).stdout.head).toBe(
        "esm 42 a\n",
      );
      expect(
        (await runFixture(sandbox.config, "shebang-script", { args: ["b"] })).stdout.head,
      ).toBe("shebang b\n");
    } finally {
      await sandbox.cleanup();
    }
  });
});

describe("parseScriptHostArgv", () => {
  it("takes the file and the script's arguments exactly as given after --", () => {
    expect(parseScriptHostArgv(["__script-host", "--", "f.mjs", "007", "--lr", "1e3"])).toEqual({
      file: "f.mjs",
      args: ["007", "--lr", "1e3"],
    });
    expect(parseScriptHostArgv(["__script-host", "f.mjs"])).toBeUndefined();
    expect(parseScriptHostArgv(["__script-host", "--"])).toBeUndefined();
  });
});
