// The submit form's part that reaches the world: path completion on a real directory, and
// the spec it builds from what was typed, refused with the field to fix.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { completePath, specFromForm } from "../../src/ui/submit-job.ts";
import { stopAll, tempDir } from "../helpers/processes.ts";

afterEach(stopAll);

function tree(): string {
  const dir = tempDir("modulate-ui-complete-");
  mkdirSync(join(dir, "scripts"));
  writeFileSync(join(dir, "scripts", "train.py"), "print('train')\n");
  writeFileSync(join(dir, "scripts", "test.py"), "print('test')\n");
  writeFileSync(join(dir, "scripts", ".hidden.py"), "");
  return dir;
}

const FORM = {
  script: "",
  group: "cpu",
  args: "",
  timeout: "10m",
  memory: "",
  gpus: "",
  mode: "detach",
};

describe("the submit form's path completion", () => {
  it("completes as far as the entries agree, a lone directory with a slash, relative or absolute", () => {
    const dir = tree();
    expect(completePath("scr", dir)).toBe("scripts/");
    expect(completePath("scripts/t", dir)).toBe("scripts/t");
    expect(completePath("scripts/tr", dir)).toBe("scripts/train.py");
    expect(completePath(`${dir}/scripts/te`)).toBe(`${dir}/scripts/test.py`);
    // Hidden entries only when asked for, as shells do; nothing found leaves the text alone.
    expect(completePath("scripts/", dir)).toBe("scripts/t");
    expect(completePath("scripts/.h", dir)).toBe("scripts/.hidden.py");
    expect(completePath("nowhere/x", dir)).toBe("nowhere/x");
  });
});

describe("the submit form's spec", () => {
  it("carries the script, group, split arguments, timeout, memory, GPUs and mode", () => {
    const dir = tree();
    const spec = specFromForm(
      {
        ...FORM,
        script: join(dir, "scripts", "train.py"),
        group: "gpu",
        args: " --epochs  3 ",
        timeout: "1h30m",
        memory: "2G",
        gpus: "2",
        mode: "wait",
      },
      1_000,
    );
    expect(spec).toMatchObject({
      group: "gpu",
      script: { name: "train.py", content: "print('train')\n" },
      args: ["--epochs", "3"],
      timeoutMs: 5_400_000,
      limits: { memoryBytes: 2 * 1024 ** 3 },
      gpus: 2,
      mode: "wait",
      submittedAt: 1_000,
    });
    expect(spec.id).toMatch(/^job-/);
  });

  it("asks for GPUs only when the field says so: a count, shared, or (empty) nothing", () => {
    const script = join(tree(), "scripts", "train.py");
    expect(specFromForm({ ...FORM, script }, 0).gpus).toBeUndefined();
    expect("gpus" in specFromForm({ ...FORM, script }, 0)).toBe(false);
    expect(specFromForm({ ...FORM, script, gpus: "0" }, 0).gpus).toBe(0);
    expect(specFromForm({ ...FORM, script, gpus: " shared " }, 0).gpus).toBe("shared");
  });

  it("names the field to fix", () => {
    const script = join(tree(), "scripts", "train.py");
    expect(() => specFromForm(FORM, 0)).toThrow(/^Script: give the path/);
    expect(() => specFromForm({ ...FORM, script, group: "GPU!" }, 0)).toThrow(/^Group: /);
    expect(() => specFromForm({ ...FORM, script, timeout: "soon" }, 0)).toThrow(
      /^Timeout "soon" is not a duration/,
    );
    expect(() => specFromForm({ ...FORM, script: `${script}.gone` }, 0)).toThrow(
      /^Script: cannot read script .*: no such file/,
    );
    expect(() => specFromForm({ ...FORM, script: dirname(script) }, 0)).toThrow(
      /^Script: cannot read script .*: it is a directory/,
    );
    expect(() => specFromForm({ ...FORM, script, gpus: "two" }, 0)).toThrow(
      /^GPUs: "two" is not a count/,
    );
  });
});
