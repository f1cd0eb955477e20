// The quick lanes of a checkout's build (release/bundle.ts): a plain `submit` and a plain `ls`
// each load one file of their own, built apart, which must not carry the parser they exist to
// skip (yargs, cli.ts and every command's schema), nor each other's command. global-setup.ts has
// just built dist/.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/processes.ts";

/** The source files esbuild names in a bundle's `// path` comments. */
function sourcesOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, "dist", file), "utf8");
  return new Set([...text.matchAll(/^\/\/ (\S+\.[cm]?[jt]sx?)$/gm)].map((m) => m[1] ?? ""));
}

describe("the quick lanes of dist/", () => {
  it.each([
    ["ls.mjs", "src/quick-ls.ts", "src/modes/ls.ts", "src/modes/submit.ts"],
    ["submit.mjs", "src/quick-submit.ts", "src/modes/submit.ts", "src/modes/ls.ts"],
  ])("%s holds its command without yargs or cli.ts", (file, lane, command, other) => {
    const sources = sourcesOf(file);
    expect(sources).toContain(lane);
    expect(sources).toContain(command);
    expect(sources).toContain("src/modes/quick-args.ts");
    expect(sources).not.toContain(other);
    expect(sources).not.toContain("src/cli.ts");
    expect([...sources].filter((source) => /yargs|y18n/.test(source))).toEqual([]);
  });
});
