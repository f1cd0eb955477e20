// The submit form's part that reaches the world: path completion on a real directory, and
// the spec it builds from what was typed, refused with the field to fix.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

const FORM = { script: "", group: "cpu", args: "", timeout: "10m", memory: "", mode: "detach" };

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
  it("carries the script, group, split arguments, timeout, memory and mode", async () => {
    const dir = tree();
    const spec = await specFromForm(
      {
        ...FORM,
        script: join(dir, "scripts", "train.py"),
        group: "gpu",
        args: " --epochs  3 ",
        timeout: "1h30m",
        memory: "2G",
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
      mode: "wait",
      submittedAt: 1_000,
    });
    expect(spec.id).toMatch(/^job-/);
  });

  it("names the field to fix", async () => {
    const script = join(tree(), "scripts", "train.py");
    await expect(specFromForm(FORM, 0)).rejects.toThrow(/^Script: give the path/);
    await expect(specFromForm({ ...FORM, script, group: "GPU!" }, 0)).rejects.toThrow(/^Group: /);
    await expect(specFromForm({ ...FORM, script, timeout: "soon" }, 0)).rejects.toThrow(
      /^Timeout "soon" is not a duration/,
    );
    await expect(specFromForm({ ...FORM, script: `${script}.gone` }, 0)).rejects.toThrow(
      /^Script: cannot read .*ENOENT/,
    );
  });
});
