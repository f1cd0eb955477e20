// What one benchmark "op" is, per scenario, as real protocol requests over HTTP. Every op
// uses a fresh id, so each one creates new state rather than hitting an idempotent replay.
import { PROTOCOL_VERSION } from "../../src/server/protocol.ts";
import type { ProtocolClient, ProtocolReply } from "./protocol-client.ts";

export const SCENARIOS = ["create+settle", "task cycle", "create"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_OPS: Record<ScenarioName, string> = {
  "create+settle": "promise.create, then promise.settle (no resonate:target)",
  "task cycle": "task.create (ttl 60 s, target poll://any@bench), then task.fulfill v1",
  create: "promise.create (no resonate:target)",
};

/** Requests one op sends: the throughput table also shows requests per second. */
export const REQUESTS_PER_OP: Record<ScenarioName, number> = {
  "create+settle": 2,
  "task cycle": 2,
  create: 1,
};

/** Deadlines of benchmark promises: an hour out, so none times out while measured. */
const PROMISE_TIMEOUT_MS = 60 * 60 * 1000;
const TASK_TTL_MS = 60_000;
const TASK_TARGET = "poll://any@bench";

function succeeded(reply: ProtocolReply): boolean {
  return reply.status === 200;
}

function taskVersion(reply: ProtocolReply): number | undefined {
  const data = reply.data as { task?: { version?: unknown } } | undefined;
  return typeof data?.task?.version === "number" ? data.task.version : undefined;
}

function createData(id: string, tags: Record<string, string>) {
  return { id, timeoutAt: Date.now() + PROMISE_TIMEOUT_MS, param: {}, tags };
}

function settleData(id: string) {
  return { id, state: "resolved", value: { data: "done" } };
}

/** Runs one op of `scenario` on a fresh `id`; true when every reply was the expected 200. */
export async function runOp(
  client: ProtocolClient,
  scenario: ScenarioName,
  id: string,
): Promise<boolean> {
  switch (scenario) {
    case "create":
      return succeeded(await client.send("promise.create", `${id}:c`, createData(id, {})));
    case "create+settle": {
      const created = await client.send("promise.create", `${id}:c`, createData(id, {}));
      if (!succeeded(created)) return false;
      return succeeded(await client.send("promise.settle", `${id}:s`, settleData(id)));
    }
    case "task cycle": {
      const head = { corrId: `${id}:a`, version: PROTOCOL_VERSION };
      const created = await client.send("task.create", `${id}:c`, {
        pid: "bench-pid",
        ttl: TASK_TTL_MS,
        action: {
          kind: "promise.create",
          head,
          data: createData(id, { "resonate:target": TASK_TARGET }),
        },
      });
      // A fresh task.create acquires the task at version 1, which fulfill must name.
      if (!succeeded(created) || taskVersion(created) !== 1) return false;
      const fulfilled = await client.send("task.fulfill", `${id}:f`, {
        id,
        version: 1,
        action: { kind: "promise.settle", head, data: settleData(id) },
      });
      return succeeded(fulfilled);
    }
  }
}
