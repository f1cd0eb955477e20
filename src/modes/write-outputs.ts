// Where `submit` puts the files a job brought back (`--output`): under one directory only.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import type { JobOutputFile } from "../orchestration/jobs/job.ts";

/** Writes the job's output files under `dir`; a path that would leave `dir` is refused. */
export function writeOutputs(outputs: readonly JobOutputFile[], dir: string): string[] {
  const root = resolve(dir);
  return outputs.map((output) => {
    const target = resolve(root, output.path);
    if (!target.startsWith(root + sep))
      return `refused output ${output.path}: it would be written outside ${root}`;
    if (!output.found) return `output ${output.path}: the job left no such file`;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(output.contentBase64, "base64"));
    return `wrote ${relative(process.cwd(), target) || target} (${output.sizeBytes} bytes${output.truncated ? ", cut at the worker's limit" : ""})`;
  });
}
