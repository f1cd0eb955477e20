// What start-up finds for the jobs' view, on real directories made for the test.
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outermostTrees, scanForMasks } from "../../src/sandbox/view-probe.ts";
import { describeView, rootJobsNote, type HostView } from "../../src/sandbox/view.ts";

describe("scanning a system dir for what a job must not open", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "modulate-view-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("masks root-only files and dirs and sockets, not readable files, links or lock files", async () => {
    await writeFile(path.join(dir, "passwd"), "root:x:0:0", { mode: 0o644 });
    await writeFile(path.join(dir, "shadow"), "root:hash", { mode: 0o640 });
    await writeFile(path.join(dir, "passwd.lock"), "", { mode: 0o600 });
    await mkdir(path.join(dir, "ssl", "private"), { recursive: true, mode: 0o755 });
    await mkdir(path.join(dir, "ssl", "private", "deeper"));
    await chmod(path.join(dir, "ssl", "private"), 0o710);
    await symlink("/run/nowhere", path.join(dir, "resolv.conf"));
    const server = createServer();
    const socketPath = path.join(dir, "ssl", "agent.sock");
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const scan = await scanForMasks(dir);
      expect(scan.problem).toBeUndefined();
      expect(scan.masked.map((entry) => [path.relative(dir, entry.path), entry.why])).toEqual(
        expect.arrayContaining([
          ["shadow", "root-only"],
          ["ssl/private", "root-only"],
          ["ssl/agent.sock", "socket"],
        ]),
      );
      expect(scan.masked).toHaveLength(3);
      expect(scan.masked.find((entry) => entry.path.endsWith("private"))?.isDirectory).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("gives up a dir too large to look through, saying why", async () => {
    for (const name of ["a", "b", "c"]) await writeFile(path.join(dir, name), "");
    expect((await scanForMasks(dir, 2)).problem).toBe("more than 2 entries");
    for (const name of ["x", "y"]) await writeFile(path.join(dir, name), "", { mode: 0o600 });
    expect((await scanForMasks(dir, 100, 1)).problem).toBe(
      "more than 1 root-only entries and sockets",
    );
  });
});

describe("interpreter trees", () => {
  it("keeps the outermost trees outside the system dirs, and never /", () => {
    expect(
      outermostTrees(
        [
          "/root/.pyenv/versions/3.11.7",
          "/root/.pyenv/versions/3.11.7",
          "/home/ann/venv",
          "/home/ann/venv/lib",
          "/usr",
          "/usr/local",
          "/",
        ],
        ["/usr", "/etc"],
      ),
    ).toEqual(["/home/ann/venv", "/root/.pyenv/versions/3.11.7"]);
  });
});

describe("the start-up line for jobs run as root", () => {
  const view: HostView = {
    systemDirs: ["/usr", "/etc", "/opt"],
    systemLinks: [],
    interpreterTrees: ["/root/.pyenv/versions/3.11.7"],
    masked: [
      { path: "/etc/shadow", isDirectory: false, why: "root-only" },
      { path: "/etc/gshadow", isDirectory: false, why: "root-only" },
      { path: "/opt/app.sock", isDirectory: false, why: "socket" },
    ],
    maskFile: "/m",
    networkFiles: [],
  };

  it("says what the view shows, less what is masked, and how to run jobs unprivileged", () => {
    expect(describeView(view)).toBe(
      "/usr, /etc less 2 root-only entries, /opt less 1 socket, /root/.pyenv/versions/3.11.7",
    );
    expect(rootJobsNote(view)).toBe(
      "warning: jobs run as root: process limits do not bind them, and they can read what the sandbox shows (/usr, /etc less 2 root-only entries, /opt less 1 socket, /root/.pyenv/versions/3.11.7), not /root, /home, /run or data dirs; pass --run-as USER to run them unprivileged",
    );
  });

  it("says that without a sandbox they can read all root can", () => {
    expect(rootJobsNote(undefined)).toMatch(
      /^warning: jobs run as root with no sandbox: they can read and change all root can/,
    );
  });
});
