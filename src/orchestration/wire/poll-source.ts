// The poll stream of a process: `GET /poll/<group>/<pid>`, whose `execute` and `unblock`
// messages drive a router's or worker's SDK and wake a waiting client. One reader for all of
// them, over modulate's node:http transport. It replaces the SDK's own source (the
// `eventsource` package over fetch), which backs off up to 30 s between reconnections: after
// a server restart, work reached a worker up to half a minute late. This one retries after
// 250 ms, doubling up to 5 s, and never gives up while the process runs.
import type { Message } from "@resonatehq/sdk";
import type { Readable } from "node:stream";
import { backoffDelayMs, SERVER_RETRY } from "./backoff.ts";
import { anycastAddress, unicastAddress } from "./poll-address.ts";
import { isPollMessage } from "./poll-message.ts";
import { readEventData } from "./sse.ts";
import type { Transport } from "./transport.ts";
import { traceStep, traceSubject, tracing } from "../../common/trace.ts";

export class PollSource {
  readonly unicast: string;
  readonly anycast: string;
  readonly #transport: Transport;
  readonly #path: string;
  readonly #callbacks: ((message: Message) => void)[] = [];
  #stream: Readable | undefined;
  /** Settles with the first attempt to open the stream. */
  readonly #firstAttempt: Promise<void>;
  #firstAttemptDone: (error?: Error) => void = () => {};
  /** Failed opens since the stream was last open: what the next reconnection waits on. */
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(transport: Transport, group: string, pid: string) {
    this.#transport = transport;
    this.#path = `/poll/${encodeURIComponent(group)}/${encodeURIComponent(pid)}`;
    this.unicast = unicastAddress(group, pid);
    this.anycast = anycastAddress(group, pid);
    this.#firstAttempt = new Promise<void>((resolve, reject) => {
      this.#firstAttemptDone = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Callers that do not wait for it (the SDK's init) must not see its failure as unhandled.
    this.#firstAttempt.catch(() => undefined);
  }

  /** The address of any member of group `target`. */
  match(target: string): string {
    return anycastAddress(target);
  }

  /**
   * Starts listening; resolves at once. A server that cannot be reached is tried again, more
   * and more rarely: its work for this group waits there until a member connects.
   */
  init(): Promise<void> {
    this.#connect();
    return Promise.resolve();
  }

  /**
   * Resolves once the stream is open, rejects if the first attempt to open it failed (the
   * source keeps trying). Messages to this process's own address are not held by every
   * server while it is away: wait for this before asking for any.
   */
  opened(): Promise<void> {
    return this.#firstAttempt;
  }

  onReceive(callback: (message: Message) => void): void {
    this.#callbacks.push(callback);
  }

  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#stream?.destroy();
    return Promise.resolve();
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#transport.stream(this.#path).then(
      (stream) => {
        if (this.#stopped) {
          stream.destroy();
          return;
        }
        this.#stream = stream;
        this.#failures = 0;
        this.#firstAttemptDone();
        readEventData(stream, (data) => this.#deliver(data));
        stream.on("error", () => undefined);
        stream.on("close", () => this.#retry());
      },
      (error: unknown) => {
        this.#firstAttemptDone(error instanceof Error ? error : new Error(String(error)));
        this.#retry();
      },
    );
  }

  #retry(): void {
    if (this.#stopped) return;
    const delayMs = backoffDelayMs(SERVER_RETRY, this.#failures++);
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #deliver(data: string): void {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not a protocol message: nothing to act on
    }
    if (!isPollMessage(message)) return;
    if (tracing) traceStep("message", `${message.kind} ${traceSubject(message.data)}`);
    for (const callback of this.#callbacks) callback(message);
  }
}
