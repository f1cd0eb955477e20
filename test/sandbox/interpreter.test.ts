import { mkdtemp, rm, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chooseInterpreter } from "../../src/sandbox/choose-interpreter.ts";
import { SandboxInputError } from "../../src/sandbox/errors.ts";
import { resolvePython } from "../../src/sandbox/interpreter.ts";
import type { Interpreters } from "../../src/sandbox/types.ts";
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
      expect(found?.prefixArgs).toEqual(["-I", "-u"]);
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

describe("chooseInterpreter", () => {
  const interpreters: Interpreters = {
    python: { path: "/usr/bin/python3", prefixArgs: ["-I"], note: "" },
    bash: { path: "/usr/bin/bash", prefixArgs: [], note: "" },
    node: { path: "/opt/modulate", prefixArgs: ["__script-host", "--"], note: "" },
  };

  it("runs .bash with bash, as the router accepts it", () => {
    expect(chooseInterpreter("run.bash", "echo hi\n", interpreters)).toEqual({
      kind: "interpreter",
      runtime: "bash",
      interpreter: interpreters.bash,
    });
  });

  it("runs .js, .mjs and .cjs with the node host", () => {
    for (const name of ["a.js", "a.mjs", "a.cjs"]) {
      expect(chooseInterpreter(name, "", interpreters)).toMatchObject({ runtime: "node" });
    }
  });

  it("runs a .py with the worker's python3 even when its #! line names /bin/sh", () => {
    expect(chooseInterpreter("train.py", "#!/bin/sh\necho hi\n", interpreters)).toMatchObject({
      kind: "interpreter",
      runtime: "python",
    });
  });

  it("runs a script without a known extension by its #! line", () => {
    expect(chooseInterpreter("tool", "#!/usr/bin/env perl\n", interpreters)).toEqual({
      kind: "shebang",
    });
  });

  it("refuses notes.txt without a #! line, naming it, what is accepted and the fix", () => {
    expect(() => chooseInterpreter("notes.txt", "hello\n", interpreters)).toThrow(
      SandboxInputError,
    );
    expect(() => chooseInterpreter("notes.txt", "hello\n", interpreters)).toThrow(
      /^cannot run script notes.txt: modulate runs .*\.bash.*; rename it .* or make its first line name its interpreter/,
    );
    // A bare #! names nothing: the kernel would refuse it, so the worker does at once.
    expect(() => chooseInterpreter("tool", "#!\n", interpreters)).toThrow(SandboxInputError);
  });

  it("says which interpreter this worker lacks", () => {
    expect(() => chooseInterpreter("run.bash", "", {})).toThrow(
      "cannot run run.bash: this worker has no bash; install it or submit to another group",
    );
  });
});
