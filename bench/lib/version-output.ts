// What `modulate --version` prints (the version on its first line, then the commit and the
// protocol it speaks), for benchmarks that time it and check every run's output.
import { execFileSync } from "node:child_process";
import packageJson from "../../package.json" with { type: "json" };

export function versionOutput(file: string): string {
  const out = execFileSync(file, ["--version"]).toString();
  if (out.split("\n")[0] !== packageJson.version) {
    throw new Error(
      `${file} --version printed ${JSON.stringify(out)}: its first line is not ${packageJson.version}`,
    );
  }
  return out;
}
