// Per-job disk quota, with real loop mounts and real jobs: a job that fills its area is
// stopped there and the result names the quota; the next job finds the area empty, another
// slot's job writes on, and the mounts of a worker killed with kill -9 are cleaned at the
// next start. Where this machine cannot mount loop devices, those tests are skipped and say
// why; the pure logic is tested everywhere.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DiskAreaPool } from "../../src/sandbox/disk-area-pool.ts";
import { setUpDiskAreas, type DiskAreas } from "../../src/sandbox/disk-areas.ts";
import {
  areaFullness,
  defaultAreaBytes,
  mountPointsUnder,
  parseMountPoints,
} from "../../src/sandbox/disk-quota.ts";
import {
  diskAreasMissing,
  MiB,
  makeSandbox,
  probeHost,
  runFixture,
  runFixtureInArea,
  waitFor,
  type TestSandbox,
} from "./harness.ts";

const GiB = 1024 * MiB;
const host = await probeHost();
const missing = await diskAreasMissing();
const AREAS_TITLE = missing
  ? `(skipped: no disk areas on this machine: ${missing})`
  : "(needs root and loop devices)";
const USER = "modulate-test-c";
const HOLDER = fileURLToPath(new URL("./disk-area-holder.ts", import.meta.url));

describe("disk quota decisions", () => {
  it("defaults to half the free space over the slots, in whole GiB, at most 64 GiB", () => {
    expect(defaultAreaBytes(100 * GiB, 4)).toBe(12 * GiB);
    expect(defaultAreaBytes(10 * 1024 * GiB, 2)).toBe(64 * GiB);
    expect(defaultAreaBytes(1 * GiB, 2)).toBe(256 * MiB);
    expect(defaultAreaBytes(100 * MiB, 1)).toBe(0);
  });

  it("reads mount points from mountinfo, escapes undone, latest first under a directory", () => {
    const mountinfo = [
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
      "42 27 7:0 / /w/jobs/.disk/0/slot-0 rw,nosuid - ext4 /dev/loop0 rw",
      "43 27 7:1 / /w/jobs/.disk/0/slot\\0401 rw,nosuid - ext4 /dev/loop1 rw",
      "44 27 7:2 / /w/jobs/.disk/1/slot-0 rw,nosuid - ext4 /dev/loop2 rw",
      "",
    ].join("\n");
    const points = parseMountPoints(mountinfo);
    expect(points[2]).toBe("/w/jobs/.disk/0/slot 1");
    expect(mountPointsUnder(points, "/w/jobs/.disk/0")).toEqual([
      "/w/jobs/.disk/0/slot 1",
      "/w/jobs/.disk/0/slot-0",
    ]);
    expect(mountPointsUnder(points, "/w/jobs/.disk/0/slot-0")).toEqual([]);
  });

  it("calls an area full with under 1% of its space or of its inodes left", () => {
    const roomy = { bsize: 4096, blocks: 10_000, bavail: 5_000, files: 1_000, ffree: 900 };
    expect(areaFullness(roomy)).toBeUndefined();
    expect(areaFullness({ ...roomy, bavail: 200 })).toBe("space");
    expect(areaFullness({ ...roomy, ffree: 3 })).toBe("files");
  });

  it("makes no areas when the quota is turned off", async () => {
    const setup = await setUpDiskAreas({ root: "/nonexistent", count: 2, sizeBytes: 0, env: {} });
    expect(setup).toEqual({ note: "no disk quota per job: turned off" });
  });
});

describe("DiskAreaPool", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "modulate-pool-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("lends each area to one job at a time and empties it before the next", async () => {
    const area = { dir: path.join(dir, "a"), sizeBytes: 16 * MiB };
    await mkdir(path.join(area.dir, "lost+found"), { recursive: true });
    const pool = new DiskAreaPool([area]);
    const first = await pool.acquire();
    let second: unknown;
    const waiting = pool.acquire().then((got) => (second = got));
    await writeFile(path.join(first.dir, "left-behind"), "x");
    await Promise.resolve();
    expect(second).toBeUndefined();
    await pool.release(first);
    expect(await waiting).toBe(area);
    expect(await readdir(area.dir)).toEqual(["lost+found"]);
    await pool.release(area);
    expect(await pool.whenIdle(0)).toBe(true);
  });

  it("stops waiting for an area when the job is canceled", async () => {
    const pool = new DiskAreaPool([{ dir, sizeBytes: 16 * MiB }]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error("canceled"));
    await expect(waiting).rejects.toThrow("canceled");
    await pool.release(held);
  });
});

/** Mount points under `dir`, as the kernel lists them now. */
async function mountsUnder(dir: string): Promise<string[]> {
  return mountPointsUnder(parseMountPoints(await readFile("/proc/self/mountinfo", "utf8")), dir);
}

/** Loop devices whose backing file lies under `dir`. */
async function loopDevicesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir("/sys/block").catch(() => [] as string[])) {
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, "utf8").catch(() => "");
    if (backing.startsWith(`${dir}/`)) found.push(name);
  }
  return found;
}

/** A failed test may leave mounts behind; they must go before the directory can. */
function unmountEverythingUnder(dir: string): void {
  const points = mountPointsUnder(
    parseMountPoints(readFileSync("/proc/self/mountinfo", "utf8")),
    dir,
  );
  for (const point of points) spawnSync("umount", ["--lazy", point]);
}

describe.skipIf(missing !== undefined)(`jobs in disk areas ${AREAS_TITLE}`, () => {
  let sandbox: TestSandbox;
  let areas: DiskAreas;
  beforeAll(async () => {
    sandbox = await makeSandbox({
      sandbox: "auto",
      cgroups: true,
      ...(host.isRoot ? { runAs: USER } : {}),
    });
    const setup = await setUpDiskAreas({
      root: path.join(sandbox.config.workRoot, ".disk"),
      count: 2,
      sizeBytes: 32 * MiB,
      env: {},
    });
    expect(setup.note).toMatch(/^disk quota: 2 areas of 32 MiB \(loop-mounted ext4 in /);
    areas = setup.areas!;
  });
  afterAll(async () => {
    await areas.close();
    unmountEverythingUnder(sandbox.dir);
    await sandbox.cleanup();
  });

  it("stops a job writing small files until its area is full, names the quota, and the next job finds the area empty", async () => {
    const outcome = await runFixtureInArea(areas.pool, sandbox.config, "fill-area.py");
    expect(outcome.state).toBe("failed");
    expect(outcome.reason).toBe("exited with code 1; disk quota 32 MiB exceeded");
    expect(outcome.stdout.head).toMatch(/stopped after \d+ files: No space left on device/);
    for (const area of await Promise.all([areas.pool.acquire(), areas.pool.acquire()])) {
      expect(await readdir(area.dir)).toEqual(["lost+found"]);
      await areas.pool.release(area);
    }
    const next = await runFixtureInArea(areas.pool, sandbox.config, "disk-room.py");
    expect(next.state).toBe("succeeded");
    const [, free, entries] = /free (\d+) entries (\d+)/.exec(next.stdout.head) ?? [];
    // Its own directory holds only its script; nearly all of the area is free again.
    expect(Number(entries)).toBe(1);
    expect(Number(free)).toBeGreaterThan(28 * MiB);
  });

  it("names the quota of files when a job runs out of inodes", async () => {
    const outcome = await runFixtureInArea(areas.pool, sandbox.config, "many-files.py");
    expect(outcome.state).toBe("failed");
    expect(outcome.reason).toMatch(/^exited with code 1; disk quota of \d+ files exceeded$/);
  });

  it("lets a job in one area write while a job in the other keeps its own area full", async () => {
    const fullArea = await areas.pool.acquire();
    const otherArea = await areas.pool.acquire();
    const controller = new AbortController();
    const filling = runFixture(
      sandbox.config,
      "fill-area.py",
      { args: ["hold"], diskArea: fullArea },
      controller.signal,
    );
    try {
      expect(
        await waitFor(async () => areaFullness(await statfs(fullArea.dir)) === "space", 15_000),
      ).toBe(true);
      const writer = await runFixture(sandbox.config, "disk-room.py", {
        args: ["8"],
        diskArea: otherArea,
      });
      expect(writer.state).toBe("succeeded");
      expect(writer.reason).toBe("exited with code 0");
    } finally {
      controller.abort();
      expect((await filling).state).toBe("canceled");
      await Promise.all([areas.pool.release(fullArea), areas.pool.release(otherArea)]);
    }
  });

  it.skipIf(!host.isRoot)("holds under --sandbox none too, for a job user", async () => {
    const plain = await makeSandbox({ sandbox: "none", cgroups: false, runAs: USER });
    const setup = await setUpDiskAreas({
      root: path.join(plain.config.workRoot, ".disk"),
      count: 1,
      sizeBytes: 32 * MiB,
      env: {},
    });
    try {
      const outcome = await runFixtureInArea(setup.areas!.pool, plain.config, "fill-area.py");
      expect(outcome.sandbox.mode).toBe("none");
      expect(outcome.reason).toBe("exited with code 1; disk quota 32 MiB exceeded");
    } finally {
      await setup.areas?.close();
      unmountEverythingUnder(plain.dir);
      await plain.cleanup();
    }
  });
});

describe.skipIf(missing !== undefined)(`areas across worker restarts ${AREAS_TITLE}`, () => {
  const roots: string[] = [];
  const holders: { kill(signal: NodeJS.Signals): boolean; exited: Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const holder of holders.splice(0)) {
      holder.kill("SIGKILL");
      await holder.exited;
    }
    for (const root of roots.splice(0)) {
      unmountEverythingUnder(root);
      await rm(root, { recursive: true, force: true });
    }
  });

  async function freshRoot(): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), "modulate-areas-"));
    roots.push(root);
    return root;
  }

  /** Another process holding two areas in `root`, as a worker would: its set directory. */
  async function startHolder(root: string): Promise<{ setDir: string; kill9(): Promise<void> }> {
    const child = spawn(process.execPath, [HOLDER, root], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    holders.push({ kill: (signal) => child.kill(signal), exited });
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
      });
      void exited.then(() => reject(new Error(`holder exited: ${err}`)));
    });
    const { setDir } = JSON.parse(line) as { setDir?: string };
    if (!setDir) throw new Error(`holder made no areas: ${line}`);
    return {
      setDir,
      kill9: async () => {
        child.kill("SIGKILL");
        await exited;
      },
    };
  }

  it("leaves the areas of a live worker alone and takes a set of its own", async () => {
    const root = await freshRoot();
    const holder = await startHolder(root);
    expect(await mountsUnder(holder.setDir)).toHaveLength(2);
    const setup = await setUpDiskAreas({ root, count: 1, sizeBytes: 16 * MiB, env: {} });
    expect(setup.areas?.setDir).not.toBe(holder.setDir);
    await setup.areas?.close();
    expect(await mountsUnder(holder.setDir)).toHaveLength(2);
    expect(await mountsUnder(setup.areas!.setDir)).toEqual([]);
  });

  it("unmounts what a worker killed with kill -9 left, and makes its areas anew", async () => {
    const root = await freshRoot();
    const holder = await startHolder(root);
    const stale = await mountsUnder(holder.setDir);
    await writeFile(path.join(stale[0], "from-the-dead-worker"), "x");
    await holder.kill9();
    // kill -9 runs no clean-up: the mounts stay.
    expect(await mountsUnder(holder.setDir)).toEqual(stale);

    const setup = await setUpDiskAreas({ root, count: 2, sizeBytes: 16 * MiB, env: {} });
    const areas = setup.areas!;
    expect(areas.setDir).toBe(holder.setDir);
    // Each area mounted once (nothing stacked on a stale mount), and empty.
    expect((await mountsUnder(root)).sort()).toEqual([...stale].sort());
    for (const point of stale) expect(await readdir(point)).toEqual(["lost+found"]);
    expect(await loopDevicesUnder(root)).toHaveLength(2);

    await areas.close();
    expect(await mountsUnder(root)).toEqual([]);
    // The kernel lets an auto-clearing loop device go once its last mount is gone, in its own
    // time: under load that came a moment after the unmount returned.
    const deadline = Date.now() + 10_000;
    while ((await loopDevicesUnder(root)).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await loopDevicesUnder(root)).toEqual([]);
  });
});
