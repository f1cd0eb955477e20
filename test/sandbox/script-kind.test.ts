// The one rule for what runs a script, which the client, the router and the worker share.
import { describe, expect, it } from "vitest";
import {
  scriptKind,
  scriptKindProblem,
  shebangInterpreter,
} from "../../src/sandbox/script-kind.ts";

describe("scriptKind", () => {
  it.each([
    ["train.py", "print(1)\n", "python"],
    ["TRAIN.PY", "print(1)\n", "python"],
    ["run.sh", "echo hi\n", "bash"],
    ["run.bash", "echo hi\n", "bash"],
    ["eval.js", "console.log(1)\n", "node"],
    ["eval.mjs", "console.log(1)\n", "node"],
    ["eval.cjs", "console.log(1)\n", "node"],
  ])("runs %s with the worker's own interpreter for its extension", (name, content, runtime) => {
    expect(scriptKind(name, content)).toMatchObject({ kind: "interpreter", runtime });
  });

  it("lets a known extension win over the #! line, so train.py always gets the worker's python3", () => {
    expect(scriptKind("train.py", "#!/bin/sh\necho not python\n")).toEqual({
      kind: "interpreter",
      runtime: "python",
      extension: ".py",
    });
    expect(scriptKind("train.py", "#!/home/me/venv/bin/python\n")).toMatchObject({
      runtime: "python",
    });
  });

  it("runs a script without a known extension by its #! line", () => {
    expect(scriptKind("tool", "#!/usr/bin/env perl\nprint 1;\n")).toEqual({
      kind: "shebang",
      interpreter: "/usr/bin/env perl",
    });
    expect(scriptKind("notes.txt", "#! /bin/sh\necho hi\n")).toEqual({
      kind: "shebang",
      interpreter: "/bin/sh",
    });
    // A dotfile has no extension, as path.extname says.
    expect(scriptKind(".py", "#!/bin/sh\n")).toMatchObject({ kind: "shebang" });
  });

  it("reads the #! line from bytes as from text", () => {
    expect(scriptKind("tool", new TextEncoder().encode("#!/bin/sh\n"))).toEqual({
      kind: "shebang",
      interpreter: "/bin/sh",
    });
  });

  it.each([
    ["notes.txt", "just some notes, no interpreter\n"],
    ["tool", "echo no #! line\n"],
    ["tool", "#!\necho a bare #! names nothing\n"],
    ["tool", "#!   \n"],
    [".py", "print(1)\n"],
    ["stdin", ""],
  ])("finds nothing to run %s starting %j", (name, content) => {
    expect(scriptKind(name, content)).toBeUndefined();
  });

  it("says in one line which script, what is accepted and the fix", () => {
    const problem = scriptKindProblem("notes.txt", "hello\n");
    expect(problem).toBe(
      "cannot run script notes.txt: modulate runs .py (python3), .sh or .bash (bash), .js, .mjs or .cjs (node), or any other name whose first line is #! and an interpreter; rename it to the extension of its language, or make its first line name its interpreter (e.g. #!/usr/bin/env python3)",
    );
    expect(scriptKindProblem("train.py", "")).toBeUndefined();
  });

  it("reads only the #! line the kernel reads", () => {
    expect(shebangInterpreter("#!/usr/bin/env python3\nprint(1)\n")).toBe("/usr/bin/env python3");
    expect(shebangInterpreter(`#!${" ".repeat(300)}/bin/sh\n`)).toBeUndefined();
    expect(shebangInterpreter(" #!/bin/sh\n")).toBeUndefined();
  });
});
