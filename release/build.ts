// `npm run release`: bundles everything into one ESM file, then has Node turn it into a
// single executable (`node --build-sea`) at release/modulate-linux-x64. No network needed:
// the executable is this very Node binary with the bundle injected.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundle } from "./bundle.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const output = `${root}release/modulate-linux-${process.arch}`;

await bundle("release");
mkdirSync(`${root}release/build`, { recursive: true });
const seaConfig = {
  main: `${root}release/build/modulate.mjs`,
  mainFormat: "module",
  output,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
};
writeFileSync(`${root}release/build/sea-config.json`, JSON.stringify(seaConfig, null, 2));
execFileSync(process.execPath, ["--build-sea", `${root}release/build/sea-config.json`], {
  stdio: "inherit",
});
process.stdout.write(`${output}\n`);
