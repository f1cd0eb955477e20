// `modulate install-service`: the systemd unit it writes for a server, a router and a worker
// runs the same command line as a service, restarts on failure, stops with SIGTERM to modulate
// alone and logs to the journal. systemd-analyze checks each unit where it is installed (this
// machine has no running systemd, so units are printed or written to a directory, not started).
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import yargs from "yargs";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.ts";
import { ExitCode } from "../../src/common/errors.ts";
import {
  installServiceCommand,
  runInstallService,
  type InstallServiceArgs,
  type InstallServiceDeps,
} from "../../src/modes/install-service.ts";
import { execWord, serviceUnit } from "../../src/modes/service-unit.ts";
import { MODULATE, start, stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";

const run = promisify(execFile);

afterEach(stopAll);

/** Runs `modulate install-service WORDS` through the real parser. */
async function installService(
  words: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const ctx = captureContext();
  const code = await main(["install-service", ...words], ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

/** The unit's `Key=value` lines of one key. */
function values(unit: string, key: string): string[] {
  return unit
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** ExecStart's words as systemd reads them (double quotes, backslash escapes, %% and $$). */
function execWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of line.matchAll(pattern)) {
    const raw = match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? "");
    words.push(raw.replaceAll("%%", "%").replaceAll("$$", "$"));
  }
  return words;
}

const hasSystemdAnalyze = existsSync("/usr/bin/systemd-analyze");

/** `systemd-analyze verify` of the unit saved as NAME.service: what it complains of. */
async function verify(unit: string, name: string): Promise<string> {
  const file = join(tempDir(), `${name}.service`);
  writeFileSync(file, unit);
  const { stdout, stderr } = await run("systemd-analyze", ["verify", "--man=no", file]);
  return `${stdout}${stderr}`.trim();
}

describe("modulate install-service --print", () => {
  it("writes a worker's unit that runs the same flags, restarts, stops gently and logs to the journal", async () => {
    const { code, out } = await installService([
      "worker",
      "--print",
      "--group",
      "gpu",
      "--url",
      "http://head:8001",
      "--slots",
      "2",
      "--max-memory",
      "8G",
      "--executable",
      "/usr/local/bin/modulate",
    ]);
    expect(code).toBe(0);
    expect(values(out, "ExecStart")).toEqual([
      "/usr/local/bin/modulate worker --url http://head:8001 --group gpu --slots 2 --max-memory 8G",
    ]);
    expect(values(out, "Restart")).toEqual(["on-failure"]);
    expect(values(out, "KillSignal")).toEqual(["SIGTERM"]);
    // SIGTERM to modulate alone: the worker stops its jobs and hands them back itself.
    expect(values(out, "KillMode")).toEqual(["mixed"]);
    expect(values(out, "Delegate")).toEqual(["yes"]);
    expect(values(out, "StandardOutput")).toEqual(["journal"]);
    expect(values(out, "StandardError")).toEqual(["journal"]);
    expect(values(out, "EnvironmentFile")).toEqual(["-/etc/modulate/modulate.env"]);
    expect(values(out, "WantedBy")).toEqual(["multi-user.target"]);
  });

  it("writes a server's and a router's unit with their own flags, paths made absolute", async () => {
    const cwd = process.cwd();
    const exe = ["--executable", "/opt/modulate"];
    const server = await installService([
      "server",
      "--print",
      "--host",
      "0.0.0.0",
      "--data",
      "d",
      ...exe,
    ]);
    expect(server.code).toBe(0);
    expect(values(server.out, "ExecStart")[0]).toMatch(
      new RegExp(`^/opt/modulate server --host 0\\.0\\.0\\.0 --data ${cwd}/d$`),
    );
    expect(values(server.out, "Delegate")).toEqual([]);
    const router = await installService(["router", "--print", "--url", "http://head:8001", ...exe]);
    expect(router.code).toBe(0);
    expect(values(router.out, "ExecStart")[0]).toBe("/opt/modulate router --url http://head:8001");
  });

  it.skipIf(!hasSystemdAnalyze)("writes units that systemd-analyze verify accepts", async () => {
    // verify checks that ExecStart's file exists: point it at this checkout's bin/modulate.
    const units = {
      "modulate-server": ["server", "--host", "0.0.0.0", "--data", "/var/lib/modulate"],
      "modulate-router": ["router", "--url", "http://head:8001", "--lease", "3s"],
      "modulate-worker-gpu": ["worker", "--group", "gpu", "--url", "http://head:8001"],
      "modulate-worker-odd": ["worker", "--group", "odd", "--work-dir", "/srv/a dir/100%/$HOME"],
    };
    for (const [name, words] of Object.entries(units)) {
      const { code, out } = await installService([...words, "--print", "--executable", MODULATE]);
      expect(code).toBe(0);
      expect(await verify(out, name)).toBe("");
    }
  });

  it("quotes words as systemd splits them, so every odd word reaches modulate unchanged", () => {
    const odd = ["/srv/a dir", "100%", "$HOME", 'say "hi"', "back\\slash", "plain"];
    const line = odd.map(execWord).join(" ");
    expect(execWords(line)).toEqual(odd);
    expect(execWord("plain")).toBe("plain");
    expect(execWord("100%")).toBe("100%%");
  });

  it("makes a server whose ExecStart, run as it stands, serves", async () => {
    const { out } = await installService([
      "server",
      "--print",
      "--port",
      "0",
      "--in-memory",
      "--executable",
      MODULATE,
    ]);
    const [program = "", ...args] = execWords(values(out, "ExecStart")[0] ?? "");
    expect(program).toBe(MODULATE);
    const server = start(program, args);
    await server.waitFor(/listening on http:\/\/\S+/);
    server.kill("SIGTERM");
    // SuccessExitStatus=143 in the unit: either way systemd sees a clean stop.
    expect([0, ExitCode.terminated]).toContain(await server.exited());
  });

  it("says what is wrong in one line, exit 2, for flags the mode would refuse", async () => {
    const cases: [string[], RegExp][] = [
      [["worker", "--print", "--url", "http://h:8001"], /modulate worker needs --group/],
      [["worker", "--print", "--group", "g", "--bogus", "1"], /has no option --bogus/],
      [["server", "--print", "--token", "secret"], /RESONATE_TOKEN=.*environment file/],
      [["worker", "--print", "--group", "g", "extra"], /takes no word "extra"/],
      [["scheduler", "--print"], /install-service takes server, router or worker/],
    ];
    for (const [words, message] of cases) {
      const { code, out, err } = await installService(words);
      expect(code).toBe(ExitCode.usage);
      expect(out).toBe("");
      expect(err).toMatch(message);
      expect(err.trim().split("\n")).toHaveLength(1);
      expect(err).not.toContain("secret");
    }
  });
});

describe("modulate install-service without --print", () => {
  async function parsed(words: readonly string[]): Promise<InstallServiceArgs> {
    const [mode = "", ...rest] = words;
    const args = await yargs(rest).options(installServiceCommand.options).parseAsync();
    return { ...args, mode };
  }

  function deps(systemd: boolean, calls: string[][]): InstallServiceDeps {
    return {
      executable: () => "/usr/local/bin/modulate",
      systemdRunning: () => systemd,
      systemctl: (args) => {
        calls.push([...args]);
        return Promise.resolve();
      },
      cwd: "/",
    };
  }

  it("refuses, pointing at --print, where systemd does not run", async () => {
    const ctx = captureContext();
    const args = await parsed(["worker", "--group", "gpu"]);
    await expect(runInstallService(args, ctx, deps(false, []))).rejects.toThrow(
      /systemd does not run on this machine.*--print/,
    );
  });

  it("writes the unit where --unit-dir says, and says how to start it", async () => {
    const dir = tempDir();
    const ctx = captureContext();
    const args = await parsed(["worker", "--group", "gpu", "--unit-dir", dir]);
    expect(await runInstallService(args, ctx, deps(false, []))).toBe(0);
    const unit = readFileSync(join(dir, "modulate-worker-gpu.service"), "utf8");
    expect(values(unit, "ExecStart")).toEqual(["/usr/local/bin/modulate worker --group gpu"]);
    expect(ctx.out()).toContain(
      "systemctl daemon-reload && systemctl enable --now modulate-worker-gpu",
    );
  });

  it("enables and starts it with systemctl where systemd runs", async () => {
    const dir = tempDir();
    const calls: string[][] = [];
    const ctx = captureContext();
    const args = await parsed(["router", "--url", "http://head:8001", "--unit-dir", dir]);
    expect(await runInstallService(args, ctx, deps(true, calls))).toBe(0);
    expect(existsSync(join(dir, "modulate-router.service"))).toBe(true);
    expect(calls).toEqual([["daemon-reload"], ["enable", "--now", "modulate-router"]]);
  });

  it("names the unit after --name", async () => {
    const dir = tempDir();
    const args = await parsed(["server", "--name", "resonate-head", "--unit-dir", dir]);
    expect(await runInstallService(args, captureContext(), deps(false, []))).toBe(0);
    expect(existsSync(join(dir, "resonate-head.service"))).toBe(true);
  });

  it("runs the service as --run-user", () => {
    const unit = serviceUnit({
      mode: "server",
      executable: "/usr/local/bin/modulate",
      args: [],
      envFile: "/etc/modulate/modulate.env",
      user: "modulate",
      madeBy: "modulate install-service server",
    });
    expect(values(unit, "User")).toEqual(["modulate"]);
  });
});
