// The worker's JobRunner over src/sandbox: a job spec becomes a sandbox request, and the
// sandbox's outcome becomes the fields of the result record.
import { runJob } from "../sandbox/run-job.ts";
import type { CapturedOutput, SandboxConfig } from "../sandbox/types.ts";
import type { JobRunner, RunOutcome } from "./worker.ts";

/** Shown where the middle of a long output was dropped. */
export function joinCaptured(output: CapturedOutput): string {
  if (output.droppedBytes === 0) return output.head + output.tail;
  return `${output.head}\n[... ${output.droppedBytes} bytes dropped ...]\n${output.tail}`;
}

export function sandboxRunner(config: SandboxConfig): JobRunner {
  return {
    async run(spec, attempt, signal): Promise<RunOutcome> {
      const outcome = await runJob(
        {
          jobId: spec.id,
          attempt,
          scriptName: spec.script.name,
          script: spec.script.content,
          args: spec.args,
          ...(spec.env ? { env: spec.env } : {}),
          limits: { timeoutMs: spec.timeoutMs },
        },
        config,
        { signal },
      );
      return {
        state: outcome.state,
        // A clean exit needs no explanation; anything else the sandbox noticed stays.
        reason:
          outcome.state === "succeeded" && /^exited with code 0$/.test(outcome.reason)
            ? ""
            : outcome.reason,
        exitCode: outcome.exitCode,
        stdout: joinCaptured(outcome.stdout),
        stderr: joinCaptured(outcome.stderr),
        durationMs: outcome.durationMs,
      };
    },
  };
}
