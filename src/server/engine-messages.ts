// What the server's main thread and its engine thread say to each other (engine-thread.ts).
// Bodies travel as transferred bytes: neither side copies or parses the other's large values.
// Each side sends what one turn of its event loop produced as one message (Outbox).
import type { AuthConfig } from "./auth.ts";
import type { Outgoing } from "./protocol.ts";
import type { StoreStats } from "./store.ts";

export interface EngineThreadConfig {
  databasePath: string;
  sync: "full" | "normal";
  retainMs?: number;
  auth: AuthConfig;
}

export interface PendingTask {
  id: string;
  version: number;
  address: string;
}

export type ToEngine =
  | { op: "answer"; id: number; body: Uint8Array }
  | { op: "ready"; id: number }
  | { op: "pending"; id: number; group: string; limit: number }
  | { op: "stats"; id: number }
  | { op: "stop"; id: number };

/** What one turn of the main thread's loop asks of the engine, in order. */
export type ToEngineBatch = ToEngine[];

export interface ErrorFacts {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromEngine =
  | { op: "started" }
  | { op: "failed"; error: ErrorFacts }
  | { op: "answer"; id: number; status: number; kind: string; body: Uint8Array | string }
  | { op: "ready"; id: number; ready: boolean }
  | { op: "pending"; id: number; tasks: PendingTask[] }
  | { op: "stats"; id: number; stats: StoreStats }
  | { op: "stopped"; id: number }
  | { op: "messages"; messages: Outgoing[] }
  | { op: "error"; error: ErrorFacts };

/** What one turn of the engine's loop answers, in order ("started" and "failed" go alone). */
export type FromEngineBatch = FromEngine[];

export function errorFacts(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

/** An Error with the name, message and code of one thrown on the other thread. */
export function errorFrom(facts: ErrorFacts): Error {
  const error = new Error(facts.message);
  error.name = facts.name;
  if (facts.code !== undefined) (error as Error & { code?: string }).code = facts.code;
  if (facts.stack !== undefined) error.stack = facts.stack;
  return error;
}

/**
 * Bytes that own their whole buffer, so it can be transferred instead of copied. Small
 * buffers share Node's pool, and transferring one would take the pool from everyone else.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  // A copy made by the Uint8Array constructor: Buffer's own slice() shares the memory.
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

/**
 * Messages to the other thread, gathered over one turn of this thread's event loop and sent
 * as one. A postMessage wakes the other thread, and each was a tenth of the server's CPU per
 * job: the requests that one read of the sockets brings (router, workers, clients), and the
 * answers and deliveries of one commit, cross together. Sent from setImmediate, after the
 * I/O callbacks and the promise continuations of this turn, so order is kept and nothing
 * waits for a later turn.
 */
export class Outbox<T> {
  readonly #send: (items: T[], transfer: ArrayBuffer[]) => void;
  #items: T[] = [];
  #transfer: ArrayBuffer[] = [];
  #scheduled = false;

  constructor(send: (items: T[], transfer: ArrayBuffer[]) => void) {
    this.#send = send;
  }

  push(item: T, transfer?: ArrayBuffer): void {
    this.#items.push(item);
    if (transfer !== undefined) this.#transfer.push(transfer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is gathered now (also what the scheduled send would have sent). */
  flush(): void {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    const transfer = this.#transfer;
    this.#items = [];
    this.#transfer = [];
    this.#send(items, transfer);
  }

  /** Drops what is gathered: the other thread is gone. */
  clear(): void {
    this.#items = [];
    this.#transfer = [];
  }
}
