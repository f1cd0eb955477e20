// The main thread's handle on the engine thread. The server's engine (the state machine, the
// store, and the parsing and encoding of every request) runs on a thread of its own, so that
// the thread serving sockets, poll streams and health checks never holds still for a request:
// an 8 MB value costs the engine 0.1-0.3 s of copies and SQLite I/O, and here the main thread
// only hands its bytes over (issue 12, item 5).
import { Worker } from "node:worker_threads";
import { encodeAnswer, type ApiAnswer, type ApiHandler } from "./api-request.ts";
import {
  errorFrom,
  ownedBytes,
  Outbox,
  type EngineThreadConfig,
  type FromEngine,
  type FromEngineBatch,
  type PendingTask,
  type ToEngine,
} from "./engine-messages.ts";
import { type Outgoing, UNKNOWN_CORR_ID } from "./protocol.ts";
import type { StoreStats } from "./store.ts";

/** The engine thread's source, inlined by release/bundle.ts; undefined when run from source. */
declare const MODULATE_ENGINE_THREAD_SOURCE: string | undefined;

export interface EngineThreadOptions extends EngineThreadConfig {
  onMessages: (messages: Outgoing[]) => void;
  onError: (error: unknown) => void;
}

type Waiter = (message: FromEngine) => void;

export class EngineThread implements ApiHandler {
  readonly #worker: Worker;
  readonly #waiters = new Map<number, Waiter>();
  readonly #options: EngineThreadOptions;
  readonly #outbox: Outbox<ToEngine>;
  #nextId = 1;
  /** Set once the thread has died or stopped: every later request is answered 500. */
  #gone: Error | undefined;

  private constructor(worker: Worker, options: EngineThreadOptions) {
    this.#worker = worker;
    this.#options = options;
    this.#outbox = new Outbox((requests, transfer) => worker.postMessage(requests, transfer));
  }

  static async start(options: EngineThreadOptions): Promise<EngineThread> {
    const config: EngineThreadConfig = {
      databasePath: options.databasePath,
      sync: options.sync,
      auth: options.auth,
      ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    };
    const worker =
      typeof MODULATE_ENGINE_THREAD_SOURCE === "string"
        ? new Worker(MODULATE_ENGINE_THREAD_SOURCE, { eval: true, workerData: config })
        : new Worker(new URL("./engine-thread.ts", import.meta.url), { workerData: config });
    const thread = new EngineThread(worker, options);
    await new Promise<void>((resolve, reject) => {
      const onFirst = (message: FromEngine): void => {
        if (message.op === "started") {
          worker.off("error", onEarlyError);
          worker.off("exit", onEarlyExit);
          resolve();
        } else if (message.op === "failed") {
          void worker.terminate();
          reject(errorFrom(message.error));
        }
      };
      const onEarlyError = (error: Error): void => reject(error);
      const onEarlyExit = (code: number): void =>
        reject(new Error(`the server's engine thread exited (code ${code}) before it started`));
      worker.on("message", (message: FromEngine | FromEngineBatch) => {
        if (Array.isArray(message)) for (const one of message) thread.#dispatch(one);
        else onFirst(message);
      });
      worker.once("error", onEarlyError);
      worker.once("exit", onEarlyExit);
    });
    worker.on("error", (error: unknown) =>
      thread.#die(error instanceof Error ? error : new Error(String(error))),
    );
    worker.on("exit", (code) =>
      thread.#die(new Error(`the server's engine thread exited (code ${code})`)),
    );
    return thread;
  }

  answer(body: Uint8Array): Promise<ApiAnswer> {
    const bytes = ownedBytes(body);
    return this.#ask<ApiAnswer>(
      { op: "answer", id: 0, body: bytes },
      (message) =>
        message.op === "answer"
          ? { status: message.status, kind: message.kind, body: message.body }
          : undefined,
      () =>
        encodeAnswer("unknown", UNKNOWN_CORR_ID, { status: 500, data: "server is shutting down" }),
      bytes.buffer as ArrayBuffer,
    );
  }

  isReady(): Promise<boolean> {
    return this.#ask(
      { op: "ready", id: 0 },
      (message) => (message.op === "ready" ? message.ready : undefined),
      () => false,
    );
  }

  /** Pending tasks routed to `group`, to offer again when it gains a member. */
  pendingTasksOfGroup(group: string, limit: number): Promise<PendingTask[]> {
    return this.#ask(
      { op: "pending", id: 0, group, limit },
      (message) => (message.op === "pending" ? message.tasks : undefined),
      () => [],
    );
  }

  /** The store's counts and totals for `/metrics`; undefined once the thread is gone. */
  storeStats(): Promise<StoreStats | undefined> {
    return this.#ask<StoreStats | undefined>(
      { op: "stats", id: 0 },
      (message) => (message.op === "stats" ? message.stats : undefined),
      () => undefined,
    );
  }

  /** Answers what is queued, stops the timers, closes the store, and ends the thread. */
  async stop(): Promise<void> {
    if (this.#gone === undefined) {
      await this.#ask(
        { op: "stop", id: 0 },
        (message) => (message.op === "stopped" ? true : undefined),
        () => true,
      );
    }
    this.#gone ??= new Error("the server's engine thread stopped");
    await this.#worker.terminate();
  }

  #ask<T>(
    request: ToEngine,
    read: (message: FromEngine) => T | undefined,
    whenGone: () => T,
    transfer?: ArrayBuffer,
  ): Promise<T> {
    if (this.#gone !== undefined) return Promise.resolve(whenGone());
    const id = this.#nextId++;
    return new Promise<T>((resolve) => {
      this.#waiters.set(id, (message) => resolve(read(message) ?? whenGone()));
      this.#outbox.push({ ...request, id }, transfer);
    });
  }

  #dispatch(message: FromEngine): void {
    switch (message.op) {
      case "messages":
        this.#options.onMessages(message.messages);
        return;
      case "error":
        this.#options.onError(errorFrom(message.error));
        return;
      case "answer":
      case "ready":
      case "pending":
      case "stats":
      case "stopped": {
        const waiter = this.#waiters.get(message.id);
        this.#waiters.delete(message.id);
        waiter?.(message);
        return;
      }
      case "started":
      case "failed":
        return;
    }
  }

  /** The thread is gone: whoever waits is answered as if the server were stopping. */
  #die(error: Error): void {
    if (this.#gone !== undefined) return;
    this.#gone = error;
    this.#outbox.clear();
    this.#options.onError(error);
    const gone: FromEngine = { op: "stopped", id: 0 };
    for (const waiter of this.#waiters.values()) waiter(gone);
    this.#waiters.clear();
  }
}
