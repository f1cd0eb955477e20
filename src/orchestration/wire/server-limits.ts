// What a process knows of its server's request limit, learnt from the server's answers:
// modulate's server says it in a header on every answer; the Resonate server says nothing and
// accepts 2 MiB. A worker fits each job's result record to it, and the client checks a large
// submission against it before sending.
import type { IncomingHttpHeaders } from "node:http";
import {
  DEFAULT_MAX_BODY_BYTES,
  MAX_BODY_HEADER,
  UNANNOUNCED_MAX_BODY_BYTES,
} from "../../common/limits.ts";

export class ServerLimits {
  #announcedBytes: number | undefined;
  #answered = false;

  /** Called with the headers of every answer the server gives. */
  noteAnswer(headers: IncomingHttpHeaders): void {
    this.#answered = true;
    const announced = Number(headers[MAX_BODY_HEADER]);
    this.#announcedBytes = Number.isSafeInteger(announced) && announced > 0 ? announced : undefined;
  }

  /** True once the server has answered: until then maxBodyBytes() is a guess. */
  get known(): boolean {
    return this.#answered;
  }

  /**
   * The largest request body to send: the one the server said; 2 MiB for a server that said
   * nothing; modulate's default before it has answered at all.
   */
  maxBodyBytes(): number {
    if (!this.#answered) return DEFAULT_MAX_BODY_BYTES;
    return this.#announcedBytes ?? UNANNOUNCED_MAX_BODY_BYTES;
  }
}
