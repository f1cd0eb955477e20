import { describe, expect, it } from "vitest";
import { main, onlyDashboardOptions } from "../src/cli.ts";
import packageJson from "../package.json" with { type: "json" };
import type { CliContext } from "../src/modes/command.ts";

function captureContext(): CliContext & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env: {},
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

describe("the command line", () => {
  it("prints the package version for --version", async () => {
    const ctx = captureContext();
    expect(await main(["--version"], ctx)).toBe(0);
    expect(ctx.out().trim()).toBe(packageJson.version);
  });

  it("lists the exit codes in --help", async () => {
    const ctx = captureContext();
    expect(await main(["--help"], ctx)).toBe(0);
    expect(ctx.out()).toContain("124  job timed out");
  });

  it("gives help for every command", async () => {
    const ctx = captureContext();
    expect(await main(["server", "--help"], ctx)).toBe(0);
    expect(ctx.out()).toContain("--port");
  });

  it("rejects an unknown command with exit code 2 and one line", async () => {
    const ctx = captureContext();
    expect(await main(["frobnicate"], ctx)).toBe(2);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
  });

  it.each([
    [["get"], "get needs its id: modulate get <id>"],
    [["submit", "--group", "cpu"], "submit needs its script: modulate submit <script>"],
    [["frobnicate"], "Unknown argument: frobnicate (modulate --help lists"],
  ])("%j: exit 2, one line saying what is wrong and what to type", async (argv, expected) => {
    const ctx = captureContext();
    expect(await main(argv, ctx)).toBe(2);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.err()).toContain(expected);
  });

  it("rejects a missing command with exit code 2", async () => {
    const ctx = captureContext();
    expect(await main([], ctx)).toBe(2);
  });
});

describe("a server address that is not one", () => {
  it.each([
    [["get", "job-1", "--url", "notaurl"], {}, "--url"],
    [["get", "job-1", "--url", ""], {}, "--url"],
    [["get", "job-1", "--url", "ftp://host"], {}, "--url"],
    [["get", "job-1"], { RESONATE_URL: "host:8001" }, "RESONATE_URL"],
  ])("%j %j: exit 2, one line naming %s", async (argv, env, source) => {
    const ctx = { ...captureContext(), env };
    expect(await main(argv, ctx)).toBe(2);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.err()).toContain(`${source} `);
    expect(ctx.err()).toContain("http://127.0.0.1:8001");
  });
});

describe("which command lines on a terminal mean the dashboard", () => {
  it.each([
    [[], true],
    [["--url", "http://head:8001"], true],
    [["--url=http://head:8001", "--refresh", "5s"], true],
    [["--token", "secret", "--url", "http://head:8001"], true],
    [["ui"], false],
    [["--help"], false],
    [["--version"], false],
    [["--url", "http://head:8001", "--help"], false],
    [["--url", "http://head:8001", "get", "job-1"], false],
    [["--token", "t", "submit", "x.py"], false],
    [["--group", "cpu"], false],
    [["-u", "x"], false],
  ])("%j: %s", (argv, expected) => {
    expect(onlyDashboardOptions(argv)).toBe(expected);
  });
});
