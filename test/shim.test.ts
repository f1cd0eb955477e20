// bin/modulate keeps V8's compiled code of the bundle between runs, in a cache of the user's
// own: never in one that another user could write, since its contents run in this process.
import { execFile } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { MODULATE, stopAll, tempDir } from "./helpers/processes.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
/** Any other owner will do; nobody's uid on Debian. */
const SOMEONE_ELSE = 65534;

async function versionWith(env: NodeJS.ProcessEnv): Promise<string> {
  const base = { ...process.env };
  delete base["NODE_COMPILE_CACHE"];
  delete base["XDG_CACHE_HOME"];
  const { stdout } = await run(MODULATE, ["--version"], { env: { ...base, ...env } });
  // The first line is the version; the rest says the commit and the protocol.
  return stdout.split("\n")[0] ?? "";
}

/** The entries Node wrote in a compile cache directory (one per Node version and arch). */
function cacheEntries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

afterEach(stopAll);

describe("the compile cache of bin/modulate", () => {
  it("is kept under the user's HOME", async () => {
    const home = tempDir();
    expect(await versionWith({ HOME: home })).toBe(packageJson.version);
    expect(cacheEntries(join(home, ".cache", "modulate", "compile-cache"))).not.toHaveLength(0);
  });

  it("is kept under XDG_CACHE_HOME where that is set", async () => {
    const home = tempDir();
    const cache = tempDir();
    expect(await versionWith({ HOME: home, XDG_CACHE_HOME: cache })).toBe(packageJson.version);
    expect(cacheEntries(join(cache, "modulate", "compile-cache"))).not.toHaveLength(0);
    expect(existsSync(join(home, ".cache"))).toBe(false);
  });

  it.skipIf(!isRoot)("is not used where HOME belongs to another user", async () => {
    const home = tempDir();
    chownSync(home, SOMEONE_ELSE, SOMEONE_ELSE);
    expect(await versionWith({ HOME: home })).toBe(packageJson.version);
    expect(existsSync(join(home, ".cache"))).toBe(false);
  });
});
