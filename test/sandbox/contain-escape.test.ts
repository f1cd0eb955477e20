// Real processes: scripts that try to get out of their sandbox, leave something behind, or
// write what a naive worker would choke on.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  makeSandbox,
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
