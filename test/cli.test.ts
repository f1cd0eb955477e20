import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
  it("prints the package version for --version, then the commit and the protocol it speaks", async () => {
    const ctx = captureContext();
    expect(await main(["--version"], ctx)).toBe(0);
    const [first, ...rest] = ctx.out().trim().split("\n");
    expect(first).toBe(packageJson.version);
    expect(rest.join("\n")).toMatch(/^commit: \S+$/m);
    expect(rest.join("\n")).toMatch(/^protocol: \d{4}-\d{2}-\d{2}$/m);
    expect(rest.join("\n")).toMatch(/^server generations: dot, colon, none$/m);
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

  it("says in a command's --help what its positional takes", async () => {
    const ctx = captureContext();
    expect(await main(["submit", "--help"], ctx)).toBe(0);
    expect(ctx.out()).toMatch(/Positionals:\s+script\s+The script to run \(\.py, \.sh, \.bash/);
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

describe("what submit reads as a script", () => {
  const dir = mkdtempSync(join(tmpdir(), "modulate-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing listens there: each of these is refused before anything is sent.
  const url = ["--url", "http://127.0.0.1:9"];

  async function submit(...argv: string[]): Promise<{ code: number; err: string }> {
    const ctx = captureContext();
    const code = await main(["submit", ...argv, ...url], ctx);
    return { code, err: ctx.err() };
  }

  // A FIFO and /dev/zero are refused too, tested with real processes in
  // test/e2e/cli-signals.test.ts: here, a regression would hang the test run itself.
  it("refuses a directory at once, in one line, exit 2", async () => {
    const path = join(dir, "scripts.py");
    mkdirSync(path);
    const res = await submit(path);
    expect(res.code).toBe(2);
    expect(res.err.trim().split("\n")).toHaveLength(1);
    expect(res.err).toContain(`cannot read script ${path}: it is a directory`);
  });

  it("refuses a script over the server's request limit before sending it, naming the limit and its flag", async () => {
    const path = join(dir, "big.py");
    writeFileSync(path, `x = 1\n${"#".repeat(12 * 1024 * 1024)}\n`);
    const res = await submit(path);
    expect(res.code).toBe(2);
    expect(res.err.trim().split("\n")).toHaveLength(1);
    expect(res.err).toMatch(
      /script \S+big\.py is larger than 7\.\d MiB, .*10 MiB, modulate server --max-body/,
    );
  });

  it("refuses a script whose JSON would be over the limit, though its bytes are not", async () => {
    // Each quote is written as two bytes in JSON: 5 MiB of them make 10 MiB.
    const path = join(dir, "quotes.py");
    writeFileSync(path, `s = '${'"'.repeat(5 * 1024 * 1024)}'\n`);
    const res = await submit(path);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(
      /script quotes\.py is 5 MiB: encoded for the server its submission is 13\.\d MiB, over the server's request limit of 10 MiB \(modulate server --max-body; a Resonate server takes 2 MiB\)/,
    );
  });

  it("refuses a job id in modulate's own name space", async () => {
    const path = join(dir, "ok.py");
    writeFileSync(path, "print(1)\n");
    const res = await submit(path, "--id", "modulate-clash");
    expect(res.code).toBe(2);
    expect(res.err.trim()).toBe(
      `modulate: --id "modulate-clash" starts with "modulate-", which modulate keeps for its own records: pick an id that does not`,
    );
    // What job `clash` creates is named `clash.execute` and so on: no job id holds a '.'.
    const child = await submit(path, "--id", "clash.execute");
    expect(child.code).toBe(2);
    expect(child.err.trim()).toBe(
      `modulate: --id "clash.execute" is not a valid job id: '.' separates the ids of what a job creates from the job's own: use letters, digits, '-' and '_' (at most 128, starting with a letter or digit)`,
    );
  });
});

describe("argument errors that say what to do (issue 13)", () => {
  it.each([
    [["submit", "x.py", "--timeout", "-5s"], "--timeout -5s"],
    [["ps"], "modulate ls"],
    [["squeue"], "modulate ls"],
    [["sacct"], "modulate ls"],
    [["kill", "job-1"], "cancel"],
    [["tail", "job-1"], "modulate get"],
    [["sinfo"], "modulate workers"],
    [["nodes"], "modulate workers"],
    [["submit", "x.py", "--bogus"], "modulate submit --help"],
  ])("%j: exit 2, one line holding %j", async (argv, expected) => {
    const ctx = captureContext();
    expect(await main(argv, ctx)).toBe(2);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.err()).toContain(expected);
    expect(ctx.err()).not.toContain("Did you mean");
  });

  it("says `--timeout=-5s` reaches the duration check, which names what it takes", async () => {
    const ctx = captureContext();
    const script = new URL("../examples/hello.py", import.meta.url).pathname;
    expect(await main(["submit", script, "--timeout=-5s"], ctx)).toBe(2);
    expect(ctx.err()).toContain("--timeout");
    expect(ctx.err()).not.toContain("Unknown argument");
  });

  it("refuses the dashboard off a terminal in one line naming what to use instead", async () => {
    const ctx = { ...captureContext(), isInteractive: false };
    expect(await main(["ui"], ctx)).toBe(2);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
    expect(ctx.err()).toContain("terminal");
    expect(ctx.err()).toContain("modulate get");
  });
});
