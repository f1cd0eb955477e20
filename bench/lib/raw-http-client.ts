// A minimal HTTP/1.1 client for `POST /`: one keep-alive socket per caller and one request
// in flight on it (no pipelining). It exists because the load generator shares a 2-core
// machine with the server: measured here against the SDK's in-memory server, it spends about
// 17 µs of client-thread time a request, node:http's client about 57 µs and fetch about
// 190 µs, and with either of those the client saturates before the server does. It reads
// only what modulate's HTTP layer always sends: a status line, headers with content-length,
// and a JSON body.
import { connect, type Socket } from "node:net";

const HEADER_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

export class RawHttpConnection {
  readonly #socket: Socket;
  readonly #requestHead: string;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (body: string) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;

  constructor(host: string, port: number) {
    this.#requestHead = `POST / HTTP/1.1\r\nhost: ${host}:${port}\r\ncontent-type: application/json\r\nconnection: keep-alive\r\ncontent-length: `;
    this.#socket = connect({ host, port, noDelay: true });
    this.#socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on("error", (error) => this.#fail(error));
    this.#socket.on("close", () => this.#fail(new Error("server closed the connection")));
  }

  /** Sends `body` and resolves with the response body; rejects if the connection fails. */
  post(body: string): Promise<string> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiting) return Promise.reject(new Error("one request at a time per connection"));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(`${this.#requestHead}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const headerEnd = this.#buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#buffered.toString("latin1", 0, headerEnd);
    const length = CONTENT_LENGTH.exec(head)?.[1];
    if (length === undefined) {
      this.#fail(new Error(`response without content-length: ${head.slice(0, 80)}`));
      return;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(length);
    if (this.#buffered.length < bodyEnd) return;
    const body = this.#buffered.toString("utf8", bodyStart, bodyEnd);
    this.#buffered = this.#buffered.subarray(bodyEnd);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(body);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }
}
