// A worker's V8 settings (src/modes/lean-v8.ts), tried in a child Node so that the test's own
// process keeps its flags: the settings take, the collection runs, and `gc` is left hidden.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const NODE = fileURLToPath(new URL("../../node_modules/node/bin/node", import.meta.url));
const LEAN = fileURLToPath(new URL("../../src/modes/lean-v8.ts", import.meta.url));

function inChild(body: string): Record<string, unknown> {
  const script = `import { releaseStartupMemory, useLeanV8 } from ${JSON.stringify(LEAN)};\n${body}`;
  const out = execFileSync(NODE, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out) as Record<string, unknown>;
}

describe("lean V8 for a worker", () => {
  it("keeps the young generation small through later work, without exposing gc", () => {
    const result = inChild(`
      import { getHeapSpaceStatistics } from "node:v8";
      const young = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
      const churn = () => Array.from({ length: 300000 }, (_, i) => ({ i, text: "x" + i })).length;
      useLeanV8();
      churn();
      releaseStartupMemory();
      churn();
      console.log(JSON.stringify({ youngBytes: young(), gcExposed: typeof globalThis.gc }));
    `);
    expect(result["gcExposed"]).toBe("undefined");
    // Without the flags V8 grows it back to 7 MB over the same work; 16 MB is its ceiling.
    expect(Number(result["youngBytes"])).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
