// The network the SDK runs on in modulate's router and worker: modulate's node:http
// transport for requests, and its own reader of the poll stream for messages. The SDK's
// HttpNetwork sends each request with fetch (undici), which cost the router and the worker
// more CPU per job than their whole part of the protocol: 10% of a busy router's time went
// to undici alone. The poll stream is read by poll-source.ts.
import {
  ResonateTimeoutException,
  type Message,
  type Network,
  type Request,
  type Response,
} from "@resonatehq/sdk";
import type { Connection } from "./connection.ts";
import { PollSource } from "./poll-source.ts";
import { batchesByOrigin } from "./origins.ts";
import type { ServerLimits } from "./server-limits.ts";
import {
  createTransport,
  ServerUnavailable,
  type Transport,
  type TransportOptions,
} from "./transport.ts";
import { encodeValue } from "./values.ts";
import { request } from "./wire-request.ts";

/**
 * Answers that say the request itself is at fault (malformed, or larger than the server takes):
 * sending the same request again gets the same answer, however long one waits.
 */
const REFUSAL_STATUSES = new Set([400, 413]);

/**
 * The server refused the request for a reason that cannot change. To the SDK it is still the
 * timeout error it knows (so that the SDK behaves as before); modulate's own layers read the
 * status and the server's reason from it.
 */
export class RequestRefused extends ResonateTimeoutException {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string) {
    super(`the server refused the request (HTTP ${status}): ${reason}`);
    this.status = status;
    this.reason = reason;
  }
}

export class SdkNetwork implements Network {
  readonly #poll: PollSource;
  readonly #transport: Transport;

  /**
   * `limits` learns the server's request limit from its answers (server-limits.ts); `transport`
   * chooses how requests are made (transport.ts).
   */
  constructor(
    connection: Connection,
    group: string,
    pid: string,
    limits?: ServerLimits,
    transport: TransportOptions = {},
  ) {
    this.#transport = createTransport(connection, undefined, limits, transport);
    this.#poll = new PollSource(this.#transport, group, pid);
  }

  get unicast(): string {
    return this.#poll.unicast;
  }
  get anycast(): string {
    return this.#poll.anycast;
  }
  match(target: string): string {
    return this.#poll.match(target);
  }
  init(): Promise<void> {
    return this.#poll.init();
  }
  async stop(): Promise<void> {
    await this.#poll.stop();
    this.#transport.close();
  }
  /** Closes the poll stream alone: no more messages come, and requests still go out. */
  stopReceiving(): Promise<void> {
    return this.#poll.stop();
  }
  recv(callback: (message: Message) => void): void {
    this.#poll.onReceive(callback);
  }

  /**
   * As the SDK's own send: protocol answers come back, anything else is its timeout error (a
   * RequestRefused where the server refused the request itself).
   */
  send = async <K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>> => {
    if (isHeartbeat(req)) return this.#heartbeat(req) as Promise<Extract<Response, { kind: K }>>;
    return this.#sendOne(req);
  };

  /**
   * The SDK beats for every task of the process at once; a server that keeps a batch within
   * one origin (c8d7c7b) refuses that when the tasks are different jobs'. One batch per origin
   * instead (origins.ts), side by side; the first answer that is not a success speaks for all.
   */
  async #heartbeat(
    req: Extract<Request, { kind: "task.heartbeat" }>,
  ): Promise<Extract<Response, { kind: "task.heartbeat" }>> {
    const batches = batchesByOrigin(req.data.tasks);
    if (batches.length <= 1) return this.#sendOne(req);
    const answers = await Promise.all(
      batches.map((tasks) => this.#sendOne({ ...req, data: { ...req.data, tasks } })),
    );
    const [first] = answers;
    return answers.find((answer) => answer.head.status !== 200) ?? first ?? this.#sendOne(req);
  }

  /**
   * Ends a task whose step the server refused as invalid: its promise is settled rejected with
   * the server's words, so the task is done and handed to nobody again, and whoever reads the
   * promise (a job's record) learns why. Best effort: the refusal goes up to the SDK as before.
   */
  async #endRefusedTask(req: Request, status: number, reason: string): Promise<void> {
    if (!TASK_STEPS.has(req.kind)) return;
    const id = (req.data as { id?: unknown }).id;
    if (typeof id !== "string") return;
    const why = `the server refused this task's ${req.kind} as invalid (HTTP ${status}: ${reason}): it would refuse it again, so the task ends here`;
    await this.#transport
      .send(request("promise.settle", { id, state: "rejected", value: encodeValue(why) }))
      .catch(() => undefined);
  }

  async #sendOne<K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>> {
    try {
      return await this.#transport.send(req);
    } catch (error) {
      if (error instanceof ServerUnavailable) {
        if (error.status !== undefined && REFUSAL_STATUSES.has(error.status)) {
          const reason = error.reason ?? error.message;
          await this.#endRefusedTask(req, error.status, reason);
          throw new RequestRefused(error.status, reason);
        }
        throw new ResonateTimeoutException(error.message);
      }
      throw error;
    }
  }
}

/**
 * The steps of a running task that the SDK takes itself. Refused as invalid, one can never
 * succeed, and the SDK would give the task back for the server to hand out again, forever (a
 * router spun 8,000 times in 24 s so). An answer (task.fulfill) is left to answer-delivery.ts,
 * which replaces a refused answer with a failed one.
 */
const TASK_STEPS: ReadonlySet<string> = new Set(["task.fence", "task.suspend"]);

function isHeartbeat(req: Request): req is Extract<Request, { kind: "task.heartbeat" }> {
  return req.kind === "task.heartbeat";
}
