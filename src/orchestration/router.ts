// The router: a member of the `entry` group running one durable orchestration per submission.
// It validates, resolves the group, and either calls `execute` there and returns its result
// (wait) or starts it detached and returns a receipt at once (fire-and-forget). A restarted
// router replays the orchestration and re-attaches to the execute promise it already made.
import { OptionsBuilder, Resonate, type Context } from "@resonatehq/sdk";
import { rejectedResult, type DetachedReceipt, type JobResult, type JobSpec } from "./job.ts";
import { ENTRY_GROUP, EXECUTE_FUNCTION, executeId, SUBMIT_FUNCTION, TAG } from "./names.ts";
import { PresenceLease } from "./presence.ts";
import { resolveGroup, type Routes } from "./routes.ts";
import { SdkNetwork } from "./sdk-network.ts";
import { submissionProblem, type SubmissionLimits } from "./validate-submission.ts";
import { requestSender, type Connection } from "./wire.ts";

export interface RouterOptions {
  connection: Connection;
  routes: Routes;
  limits: SubmissionLimits;
  /** How long a job may wait for a worker of its group before it times out. */
  queueTimeoutMs: number;
  /** A router silent this long loses its submissions to a peer. */
  leaseMs: number;
  pid: string;
}

export interface RunningRouter {
  stop(): Promise<void>;
}

/** The orchestration itself, apart from the process around it. */
export function submitOrchestration(
  options: Pick<RouterOptions, "routes" | "limits" | "queueTimeoutMs"> & {
    /** The network's mapping of a group name to its address, as `ctx.options` uses. */
    match: (target: string) => string;
  },
) {
  // ctx.options cannot name the call's promise; the SDK's own builder, on the same network,
  // can: a client then waits on the execute promise by its name (client.ts).
  const builder = new OptionsBuilder({ match: options.match });
  return function* submit(
    ctx: Context,
    spec: JobSpec,
  ): Generator<unknown, JobResult | DetachedReceipt, unknown> {
    const group = resolveGroup(options.routes, spec.group);
    const problem = submissionProblem(spec, group, options.limits);
    // Invalid now is invalid on every replay: answer with the reason instead of throwing,
    // so nothing retries it.
    if (problem) return rejectedResult(spec, group, problem, spec.submittedAt);
    const routed: JobSpec = { ...spec, group };
    const opts = builder.build({
      id: executeId(spec.id),
      target: group,
      timeout: options.queueTimeoutMs + spec.timeoutMs,
      tags: { [TAG.executeOf]: spec.id, [TAG.kind]: "execute", [TAG.group]: group },
    });
    if (spec.mode === "detach") {
      const future = yield* ctx.detached<JobResult>(EXECUTE_FUNCTION, routed, opts);
      return { detached: true, id: spec.id, group, executeId: future.id };
    }
    return yield* ctx.rpc<JobResult>(EXECUTE_FUNCTION, routed, opts);
  };
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { connection } = options;
  const network = new SdkNetwork(connection, ENTRY_GROUP, options.pid);
  const resonate = new Resonate({
    network,
    pid: options.pid,
    ttl: options.leaseMs,
    logLevel: "error",
  });
  resonate.register(
    SUBMIT_FUNCTION,
    submitOrchestration({ ...options, match: (target) => network.match(target) }),
  );
  const presence = new PresenceLease({
    send: requestSender(connection),
    group: ENTRY_GROUP,
    pid: options.pid,
    slots: 0,
    leaseMs: options.leaseMs,
  });
  await presence.start();
  return {
    async stop() {
      await presence.stop();
      await resonate.stop();
    },
  };
}
