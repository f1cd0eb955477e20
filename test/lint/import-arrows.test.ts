// The arrows of ../shared/design.md are lint rules: a wrong import fails `npm run check`.
// Each case lints one import line as if it stood in a real file of that folder.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, line: string): Promise<number> {
  const [result] = await eslint.lintText(`${line}\n`, { filePath });
  return (result?.messages ?? []).filter(
    (m) => m.ruleId === "@typescript-eslint/no-restricted-imports",
  ).length;
}

describe("import arrows", () => {
  it.each([
    ["src/server/timers.ts", 'import "../orchestration/names.ts";'],
    ["src/server/timers.ts", 'import "@resonatehq/sdk";'],
    ["src/sandbox/paths.ts", 'import "../orchestration/names.ts";'],
    ["src/sandbox/paths.ts", 'import "ink";'],
    ["src/common/limits.ts", 'import "../sandbox/paths.ts";'],
    ["src/orchestration/names.ts", 'import "../server/defaults.ts";'],
    ["src/orchestration/router.ts", 'import "../modes/get.ts";'],
    ["src/orchestration/names.ts", 'import { Resonate } from "@resonatehq/sdk";'],
    ["src/ui/keymap.ts", 'import "../sandbox/paths.ts";'],
    ["src/ui/keymap.ts", 'import "../server/defaults.ts";'],
    ["src/ui/keymap.ts", 'import "../modes/get.ts";'],
    ["src/modes/get.ts", 'import "../ui/keymap.ts";'],
  ])("%s may not %s", async (filePath, line) => {
    expect(await restrictedImports(filePath, line)).toBe(1);
  });

  it.each([
    ["src/server/timers.ts", 'import "../common/limits.ts";'],
    ["src/sandbox/paths.ts", 'import "../common/units.ts";'],
    ["src/orchestration/worker.ts", 'import { Resonate } from "@resonatehq/sdk";'],
    ["src/orchestration/names.ts", 'import type { Resonate } from "@resonatehq/sdk";'],
    ["src/orchestration/client.ts", 'import "../sandbox/paths.ts";'],
    ["src/ui/keymap.ts", 'import "../orchestration/names.ts";'],
    ["src/modes/get.ts", 'import type { Keymap } from "../ui/keymap.ts";'],
  ])("%s may %s", async (filePath, line) => {
    expect(await restrictedImports(filePath, line)).toBe(0);
  });
});
