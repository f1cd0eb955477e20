// The engine's side of the engine thread: the store, the engine and everything that touches a
// request's bytes, answering the main thread's messages (engine-messages.ts).
import type { MessagePort } from "node:worker_threads";
import { answerApiBody, encodeAnswer } from "./api-request.ts";
import { createAuthenticator } from "./auth.ts";
import { Engine } from "./engine.ts";
import { UNKNOWN_CORR_ID } from "./protocol.ts";
import {
  errorFacts,
  ownedBytes,
  Outbox,
  type EngineThreadConfig,
  type FromEngine,
  type ToEngine,
  type ToEngineBatch,
} from "./engine-messages.ts";
import { SqliteStore } from "./store.ts";

export function hostEngine(port: MessagePort, config: EngineThreadConfig): void {
  const outbox = new Outbox<FromEngine>((messages, transfer) =>
    port.postMessage(messages, transfer),
  );
  const post = (message: FromEngine, transfer?: ArrayBuffer): void =>
    outbox.push(message, transfer);
  const onError = (error: unknown): void => post({ op: "error", error: errorFacts(error) });
  let store: SqliteStore;
  let engine: Engine;
  try {
    store = new SqliteStore({ path: config.databasePath, sync: config.sync, onError });
    engine = new Engine({
      store,
      clock: Date.now,
      ...(config.retainMs === undefined ? {} : { retainMs: config.retainMs }),
      onMessages: (messages) => post({ op: "messages", messages }),
      onError,
    });
  } catch (error) {
    port.postMessage({ op: "failed", error: errorFacts(error) } satisfies FromEngine);
    port.close();
    return;
  }
  const auth = config.auth.kind === "none" ? undefined : createAuthenticator(config.auth, Date.now);

  const handle = (message: ToEngine): void => {
    switch (message.op) {
      case "answer":
        answerApiBody(message.body, engine, auth).then(
          (answer) => {
            const body = typeof answer.body === "string" ? answer.body : ownedBytes(answer.body);
            post(
              { op: "answer", id: message.id, status: answer.status, kind: answer.kind, body },
              typeof body === "string" ? undefined : (body.buffer as ArrayBuffer),
            );
          },
          (error: unknown) => {
            onError(error);
            const { body } = encodeAnswer("unknown", UNKNOWN_CORR_ID, {
              status: 500,
              data: "internal error",
            });
            post({ op: "answer", id: message.id, status: 500, kind: "unknown", body });
          },
        );
        return;
      case "ready":
        post({ op: "ready", id: message.id, ready: engine.isReady() });
        return;
      case "pending":
        post({
          op: "pending",
          id: message.id,
          tasks: engine.pendingTasksOfGroup(message.group, message.limit),
        });
        return;
      case "stats":
        post({ op: "stats", id: message.id, stats: store.stats() });
        return;
      case "stop":
        engine.stop();
        store.close().then(
          () => post({ op: "stopped", id: message.id }),
          (error: unknown) => {
            onError(error);
            post({ op: "stopped", id: message.id });
          },
        );
        return;
    }
  };
  port.on("message", (batch: ToEngineBatch) => {
    for (const message of batch) handle(message);
  });
  port.postMessage({ op: "started" } satisfies FromEngine);
}
