// The arrows of ../shared/design.md are lint rules: a wrong import fails `npm run check`.
// Each case lints one import line as if it stood in a real file of that folder.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

interface RestrictedImports {
  patterns?: { regex: string }[];
}

/**
 * Whether the configuration for a file in a folder that does not exist yet refuses an import
 * path: such a file cannot be linted with types, so its rule's patterns are read instead.
 */
async function refusedInFolder(filePath: string, importPath: string): Promise<boolean> {
  const config = (await eslint.calculateConfigForFile(filePath)) as {
    rules: Record<string, [number, RestrictedImports] | undefined>;
  };
  const rule = config.rules["@typescript-eslint/no-restricted-imports"];
  return (rule?.[1].patterns ?? []).some(({ regex }) => new RegExp(regex, "u").test(importPath));
}

async function restrictedImports(filePath: string, line: string): Promise<number> {
  const [result] = await eslint.lintText(`${line}\n`, { filePath });
  return (result?.messages ?? []).filter(
    (m) => m.ruleId === "@typescript-eslint/no-restricted-imports",
  ).length;
}

describe("import arrows", () => {
  it.each([
    ["src/server/timers.ts", 'import "../orchestration/jobs/names.ts";'],
    ["src/server/timers.ts", 'import "@resonatehq/sdk";'],
    ["src/sandbox/paths.ts", 'import "../orchestration/jobs/names.ts";'],
    ["src/sandbox/paths.ts", 'import "ink";'],
    ["src/common/limits.ts", 'import "../sandbox/paths.ts";'],
    ["src/orchestration/jobs/names.ts", 'import "../../server/defaults.ts";'],
    ["src/orchestration/wire/transport.ts", 'import "../jobs/names.ts";'],
    ["src/orchestration/wire/transport.ts", 'import "../client.ts";'],
    ["src/orchestration/jobs/names.ts", 'import "../client.ts";'],
    ["src/orchestration/router.ts", 'import "../modes/get.ts";'],
    ["src/orchestration/jobs/names.ts", 'import { Resonate } from "@resonatehq/sdk";'],
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
    ["src/orchestration/jobs/names.ts", 'import type { Resonate } from "@resonatehq/sdk";'],
    ["src/orchestration/wire/sdk-network.ts", 'import { Resonate } from "@resonatehq/sdk";'],
    ["src/orchestration/jobs/names.ts", 'import "../wire/values.ts";'],
    ["src/orchestration/client.ts", 'import "./jobs/names.ts";'],
    ["src/orchestration/client.ts", 'import "../sandbox/paths.ts";'],
    ["src/ui/keymap.ts", 'import "../orchestration/jobs/names.ts";'],
    ["src/modes/get.ts", 'import type { Keymap } from "../ui/keymap.ts";'],
  ])("%s may %s", async (filePath, line) => {
    expect(await restrictedImports(filePath, line)).toBe(0);
  });

  it.each([
    ["src/server/state/promises.ts", "../../orchestration/jobs/names.ts", true],
    ["src/server/state/promises.ts", "../protocol.ts", false],
    ["src/server/state/promises.ts", "../../common/limits.ts", false],
    ["src/orchestration/wire/transport.ts", "../../server/defaults.ts", true],
    ["src/orchestration/wire/transport.ts", "../../modes/get.ts", true],
    ["src/orchestration/wire/transport.ts", "./values.ts", false],
    ["src/orchestration/wire/transport.ts", "../../sandbox/paths.ts", false],
    ["src/sandbox/linux/bwrap.ts", "../../orchestration/jobs/names.ts", true],
    ["src/sandbox/linux/bwrap.ts", "../types.ts", false],
  ])("one folder down, %s importing %s is refused: %s", async (filePath, importPath, refused) => {
    expect(await refusedInFolder(filePath, importPath)).toBe(refused);
  });
});
