import { mkdtemp, rm, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolvePython } from "../../src/sandbox/interpreter.ts";
import { modeAllows } from "../../src/sandbox/permissions.ts";

describe("resolvePython", () => {
  it("resolves a python3 shim on PATH to the executable it runs, once", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "modulate-shim-"));
    try {
      // A shim in the style of pyenv: a script that execs the real interpreter.
      await writeFile(path.join(dir, "python3"), '#!/bin/sh\nexec /usr/bin/python3 "$@"\n');
      await chmod(path.join(dir, "python3"), 0o755);
      const found = await resolvePython(`${dir}:/usr/bin`, undefined);
      expect(found?.path).toMatch(/^\/usr\/bin\/python3/);
      expect(found?.prefixArgs).toEqual(["-I"]);
      expect(found?.note).toContain(`PATH's python3 is ${dir}/python3`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("falls back to /usr/bin/python3 when PATH has none", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "modulate-empty-"));
    try {
      await symlink("/nonexistent", path.join(dir, "python3"));
      expect((await resolvePython(dir, undefined))?.path).toBe("/usr/bin/python3");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("modeAllows", () => {
  const owner = { uid: 0, gid: 0 };
  const user = { uid: 990, gid: 990 };
  it("reads the owner, group or other bits that apply to the user", () => {
    expect(modeAllows(0o700, owner, user, 1)).toBe(false);
    expect(modeAllows(0o711, owner, user, 1)).toBe(true);
    expect(modeAllows(0o750, { uid: 0, gid: 990 }, user, 1)).toBe(true);
    expect(modeAllows(0o705, { uid: 990, gid: 0 }, user, 1)).toBe(true);
  });
});
