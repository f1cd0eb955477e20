// A named interpreter (`worker --interpreter NAME=PATH`) runs the script in place of the one its
// kind picks, and under bwrap it and its venv are there even where the job's view hides them.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSandbox, probeHost, runFixture } from "./harness.ts";

const host = await probeHost();
let dir: string;
let venv: string;
let python: string;

beforeAll(async () => {
  // Under /tmp, which a bwrap job sees as its own empty tmpfs.
  dir = await mkdtemp(path.join(tmpdir(), "modulate-interp-"));
  await chmod(dir, 0o755);
  venv = path.join(dir, "venvs", "torch");
  await mkdir(path.join(venv, "bin"), { recursive: true });
  await writeFile(path.join(venv, "pyvenv.cfg"), "home = /usr/bin\n");
  await writeFile(path.join(venv, "marker"), "from the venv\n");
  python = path.join(venv, "bin", "python");
  await writeFile(
    python,
    `#!/bin/sh\necho "named interpreter: $(cat ${path.join(venv, "marker")})"\nexec /usr/bin/python3 "$@"\n`,
  );
  await chmod(python, 0o755);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const modes = [
  { sandbox: "none" as const, run: true },
  { sandbox: "bwrap" as const, run: host.bwrap },
];

describe.each(modes)("a named interpreter, sandbox $sandbox", ({ sandbox, run }) => {
  it.skipIf(!run)("runs the script, and sees its venv", async () => {
    const made = await makeSandbox({ sandbox, cgroups: false });
    try {
      const config = { ...made.config, namedInterpreterPaths: [python, venv] };
      const outcome = await runFixture(config, "hello.py", {
        interpreter: { path: python, prefixArgs: [], note: "torch" },
      });
      expect(outcome.stderr.head).toBe("");
      expect(outcome.stdout.head).toContain("named interpreter: from the venv");
      expect(outcome.stdout.head).toContain("hello from");
      expect(outcome.state).toBe("succeeded");
    } finally {
      await made.cleanup();
    }
  });
});
