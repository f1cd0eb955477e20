// `npm run release`: bundles everything into one ESM file, then has Node turn it into a
// single executable (`node --build-sea`) at release/modulate-linux-x64, with its sha256 beside
// it (release/modulate-linux-x64.sha256, as `sha256sum -c` reads it). No network needed: the
// executable is this very Node binary with the bundle injected. Node's debug symbols (about
// 30 MiB) are stripped from a copy of it first where `strip` is installed (binutils).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "./bundle.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const output = `${root}release/modulate-linux-${process.arch}`;
const build = `${root}release/build`;

/** A copy of this Node without its debug symbols, or this Node itself where strip is absent. */
function baseNode(): string {
  const stripped = `${build}/node`;
  rmSync(stripped, { force: true });
  try {
    execFileSync("strip", ["-o", stripped, process.execPath], { stdio: "pipe" });
    return stripped;
  } catch {
    process.stderr.write(
      "release: strip (binutils) is not installed: the executable keeps Node's debug symbols\n",
    );
    copyFileSync(process.execPath, stripped);
    return stripped;
  }
}

await bundle("release");
mkdirSync(build, { recursive: true });
const seaConfig = {
  main: `${build}/modulate.mjs`,
  mainFormat: "module",
  output,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
};
writeFileSync(`${build}/sea-config.json`, JSON.stringify(seaConfig, null, 2));
// `--build-sea` injects into the Node that runs it: the stripped copy.
execFileSync(baseNode(), ["--build-sea", `${build}/sea-config.json`], { stdio: "inherit" });
const digest = createHash("sha256").update(readFileSync(output)).digest("hex");
writeFileSync(`${output}.sha256`, `${digest}  ${basename(output)}\n`);
process.stdout.write(`${output}\n`);
