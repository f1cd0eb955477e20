// Real processes: scripts that try to get out of their sandbox, leave something behind, or
// write what a naive worker would choke on.
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setUpSandbox } from "../../src/sandbox/probe.ts";
import {
  makeSandbox,
  TEST_LIMITS,
  nextJobRuns,
  probeHost,
  processesWith,
  runFixture,
  waitFor,
  type TestSandbox,
} from "./harness.ts";

const host = await probeHost();
const USER = "modulate-test-b";
const SECRET = "worker-secret-token";

interface Variant {
  readonly label: string;
  readonly sandbox: "auto" | "none";
  /** Whether bwrap is in use in this variant. */
  readonly bwrap: boolean;
  readonly skip: boolean;
}

const VARIANTS: readonly Variant[] = [
  { label: "under the full sandbox", sandbox: "auto", bwrap: host.bwrap, skip: false },
  // The same attacks with only cgroups and the job user standing in the way.
  {
    label: "without bwrap (cgroups and a job user)",
    sandbox: "none",
    bwrap: false,
    skip: !host.isRoot || !host.cgroups,
  },
];

describe.each(VARIANTS.filter((variant) => !variant.skip))(
  "a job that tries to escape $label",
  (variant) => {
    let sandbox: TestSandbox;
    let dataDir: string;
    let server: Server;
    let port: number;
    let connections = 0;

    beforeAll(async () => {
      sandbox = await makeSandbox({
        sandbox: variant.sandbox,
        cgroups: true,
        ...(host.isRoot ? { runAs: USER } : {}),
      });
      // Stands for the worker's own data directory (its database, its tokens).
      dataDir = path.join(sandbox.dir, "worker-data");
      await mkdir(dataDir, { mode: 0o700 });
      await writeFile(path.join(dataDir, "token"), SECRET, { mode: 0o600 });
      server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      port = typeof address === "object" && address ? address.port : 0;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await sandbox.cleanup();
    });

    it.skipIf(!host.isRoot && !variant.bwrap)(
      "cannot read the worker's data directory (needs bwrap or a job user)",
      async () => {
        const config = {
          ...sandbox.config,
          hiddenPaths: [...(sandbox.config.hiddenPaths ?? []), dataDir],
        };
        const outcome = await runFixture(config, "read-outside.py", {
          args: [path.join(dataDir, "token")],
        });
        expect(outcome.state).toBe("succeeded");
        expect(outcome.stdout.head).not.toContain(SECRET);
        // Under bwrap the directory is an empty tmpfs; without, the job user lacks permission.
        expect(outcome.stdout.head).toMatch(
          variant.bwrap ? /BLOCKED: FileNotFoundError/ : /BLOCKED: PermissionError/,
        );
        expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
      },
    );

    it.skipIf(!variant.bwrap)(
      "cannot open a network connection when network is off (needs bwrap)",
      async () => {
        const before = connections;
        const outcome = await runFixture(sandbox.config, "connect.py", {
          args: [String(port)],
          networkWanted: true,
        });
        expect(outcome.stdout.head).toContain("BLOCKED: ConnectionRefusedError");
        expect(connections).toBe(before);
        expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
      },
    );

    it.skipIf(!variant.bwrap)(
      "reaches the network when it asks and the worker allows it",
      async () => {
        const config = { ...sandbox.config, networkAllowed: true };
        const outcome = await runFixture(config, "connect.py", {
          args: [String(port)],
          networkWanted: true,
        });
        expect(outcome.stdout.head).toContain("CONNECTED");
      },
    );

    it.skipIf(!host.isRoot && !variant.bwrap)(
      "cannot kill the worker by killing its parent (needs bwrap or a job user)",
      async () => {
        const outcome = await runFixture(sandbox.config, "kill-parent.py");
        expect(outcome.stdout.head).toContain("still here");
        expect(outcome.state).toBe("succeeded");
        expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
      },
    );

    it.skipIf(!host.cgroups && !variant.bwrap)(
      "leaves no daemonised child behind (needs cgroups or bwrap's pid namespace)",
      async () => {
        const marker = `modulate-daemon-${randomBytes(4).toString("hex")}`;
        const outcome = await runFixture(sandbox.config, "daemon.py", { args: [marker] });
        expect(outcome.state).toBe("succeeded");
        expect(outcome.stdout.head).toContain("daemon started");
        expect(await processesWith(marker)).toEqual([]);
        expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
      },
    );

    it("ends a job whose background child keeps stdout open, and kills that child", async () => {
      const marker = `modulate-holder-${randomBytes(4).toString("hex")}`;
      const started = Date.now();
      const outcome = await runFixture(sandbox.config, "daemon-holding-stdout.sh", {
        args: [marker],
      });
      expect(outcome.state).toBe("succeeded");
      expect(outcome.stdout.head).toContain("left a child behind");
      // Not held until the timeout by the child's copy of stdout.
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await waitFor(async () => (await processesWith(marker)).length === 0, 2000)).toBe(
        true,
      );
    });

    it("keeps non-UTF-8 output as replacement characters, in the result and the log", async () => {
      const outcome = await runFixture(sandbox.config, "non-utf8.py");
      expect(outcome.state).toBe("succeeded");
      expect(outcome.stdout.head).toBe("ok \uFFFD\uFFFD bad \uFFFD( end\n");
      expect(outcome.stderr.head).toBe("err \uFFFD\uFFFD");
      const records = (await readFile(outcome.logFile, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { t: number; stream: string; line: string });
      expect(records.filter((r) => r.stream !== "sandbox").map((r) => [r.stream, r.line])).toEqual([
        ["stdout", "ok \uFFFD\uFFFD bad \uFFFD( end"],
        ["stderr", "err \uFFFD\uFFFD"],
      ]);
      expect(records.every((r) => typeof r.t === "number")).toBe(true);
    });

    it("times out a script that closes stdout and keeps running", async () => {
      const outcome = await runFixture(sandbox.config, "close-stdout.py", {
        limits: { timeoutMs: 1000 },
      });
      expect(outcome.state).toBe("timed_out");
      expect(outcome.stdout.head).toBe("closing\n");
      expect((await nextJobRuns(sandbox.config)).state).toBe("succeeded");
    });

    it("returns declared outputs but never follows a symlink out of the job's directory", async () => {
      const outcome = await runFixture(sandbox.config, "outputs.py", {
        outputs: ["model.txt", "stolen.txt", "absent.txt"],
      });
      expect(outcome.state).toBe("succeeded");
      const byPath = new Map(outcome.outputs.map((file) => [file.path, file]));
      expect(Buffer.from(byPath.get("model.txt")?.contentBase64 ?? "", "base64").toString()).toBe(
        "weights",
      );
      expect(byPath.get("stolen.txt")?.found).toBe(false);
      expect(byPath.get("absent.txt")?.found).toBe(false);
    });
  },
);

// The host's root-only files, homes, sockets and data, against a job that runs as root: it
// keeps uid 0 without capabilities, so only what is not in its view keeps it from what root
// owns. Each of these read or reached its target when the view was the whole host.
describe.skipIf(!host.isRoot || !host.bwrap)("a job run as root under bwrap", () => {
  let sandbox: TestSandbox;
  const tag = randomBytes(4).toString("hex");
  const home = `/home/modulate-test-${tag}`;
  const serverData = `/var/lib/modulate-test-${tag}`;
  const socketPath = `/run/modulate-test-${tag}.sock`;

  beforeAll(async () => {
    sandbox = await makeSandbox({ sandbox: "auto", cgroups: true });
  });
  afterAll(async () => {
    await sandbox.cleanup();
    await rm(home, { recursive: true, force: true });
    await rm(serverData, { recursive: true, force: true });
    await rm(socketPath, { force: true });
  });

  async function stdoutOf(script: string, args: string[]): Promise<string> {
    const outcome = await runFixture(sandbox.config, script, { args });
    expect(outcome.state).toBe("succeeded");
    return outcome.stdout.head;
  }

  it("cannot read /etc/shadow or /etc/gshadow, and still reads /etc/passwd", async () => {
    for (const file of ["/etc/shadow", "/etc/gshadow"])
      expect(await stdoutOf("read-outside.py", [file])).toMatch(
        /^BLOCKED: (PermissionError|FileNotFoundError)/,
      );
    expect(await stdoutOf("read-outside.py", ["/etc/passwd"])).toMatch(/^READ: root:x:0:0:/);
  });

  it("cannot list /root, /home or another user's home, nor read in it", async () => {
    // A home anyone may read, owned by someone else, as Debian made them until 12.
    await mkdir(home, { mode: 0o755 });
    await writeFile(path.join(home, "notes.txt"), "home-secret", { mode: 0o644 });
    await chown(home, 65534, 65534);
    for (const dir of ["/root", "/home", home])
      expect(await stdoutOf("list-dir.py", [dir])).toMatch(
        /^BLOCKED: (PermissionError|FileNotFoundError)/,
      );
    expect(await stdoutOf("read-outside.py", [path.join(home, "notes.txt")])).toBe(
      "BLOCKED: FileNotFoundError\n",
    );
  });

  it("cannot connect to a root-only unix socket under /run with the network off", async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await chmod(socketPath, 0o600);
      expect(await stdoutOf("connect-unix.py", [socketPath])).toBe("BLOCKED: FileNotFoundError\n");
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("cannot see the worker's work dir nor a server's data dir", async () => {
    // The worker's --work-dir holds more than the hidden jobs and logs dirs.
    const workerState = path.join(sandbox.dir, "worker-state");
    await writeFile(workerState, SECRET, { mode: 0o600 });
    await mkdir(serverData, { mode: 0o700 });
    await writeFile(path.join(serverData, "resonate.db"), SECRET, { mode: 0o600 });
    for (const file of [workerState, path.join(serverData, "resonate.db")])
      expect(await stdoutOf("read-outside.py", [file])).toBe("BLOCKED: FileNotFoundError\n");
    expect(await stdoutOf("list-dir.py", [sandbox.dir])).toMatch(/^BLOCKED: PermissionError/);
  });
});

// The worker's own PATH, as an operator's would be: here python3 is a pyenv shim in /root.
describe.skipIf(!host.isRoot || !host.bwrap)("a python installed under /root", () => {
  it("runs with its install tree in the view, and says at start-up what root's jobs read", async () => {
    const dir = path.join(tmpdir(), `modulate-py-${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { mode: 0o711 });
    try {
      const { config, notes } = await setUpSandbox({
        sandbox: "bwrap",
        cgroups: false,
        defaultLimits: TEST_LIMITS,
        workRoot: path.join(dir, "work"),
        logDir: path.join(dir, "logs"),
        env: process.env,
      });
      expect(notes.filter((note) => note.includes("jobs run as root"))).toEqual([
        expect.stringMatching(
          /^warning: jobs run as root: .*they can read what the sandbox shows \(\/usr, .*\/etc less \d+ root-only entr.*\), not \/root, \/home, \/run or data dirs; pass --run-as USER/,
        ),
      ]);
      const python = config.interpreters.python?.path ?? "";
      const outcome = await runFixture(config, "python-prefix.py");
      expect(outcome.stderr.head).toBe("");
      expect(outcome.state).toBe("succeeded");
      if (python.startsWith("/root/")) {
        expect(outcome.stdout.head).toMatch(/^PREFIX: \/root\/.+ SSL: OpenSSL/);
        expect(notes.join("\n")).toContain(outcome.stdout.head.split(" ")[1]);
      }
      const listed = await runFixture(config, "list-dir.py", { args: ["/root"] });
      expect(listed.stdout.head).toMatch(/^BLOCKED: (PermissionError|FileNotFoundError)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
