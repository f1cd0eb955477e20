// What the server's main thread and its engine thread say to each other (engine-thread.ts).
// Bodies travel as transferred bytes: neither side copies or parses the other's large values.
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

export interface ErrorFacts {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromEngine =
  | { op: "started" }
  | { op: "failed"; error: ErrorFacts }
  | { op: "answer"; id: number; status: number; kind: string; body: Uint8Array }
  | { op: "ready"; id: number; ready: boolean }
  | { op: "pending"; id: number; tasks: PendingTask[] }
  | { op: "stats"; id: number; stats: StoreStats }
  | { op: "stopped"; id: number }
  | { op: "messages"; messages: Outgoing[] }
  | { op: "error"; error: ErrorFacts };

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
