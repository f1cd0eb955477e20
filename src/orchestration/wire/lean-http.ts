// HTTP/1.1 over node:net, for a client's requests to a plain-http server: what node:http costs a
// command that sends a handful of requests is most of its network CPU (issue 17). Measured here
// on one 2-core machine: loading node:http and its first request took 29-33 ms of CPU, node:net
// and the same request by hand 11-16 ms; each later request 2-3 ms against 0.3-0.7 ms. It speaks
// only what the protocol's answers need: a status line, headers, and a body of a known length,
// chunked, or up to the close; kept-alive sockets, one request at a time on each.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";

/** An answer: its status, its headers (lowercase names) and its body as a stream. */
export type LeanAnswer = Readable & {
  statusCode: number;
  headers: Record<string, string>;
};

export interface LeanRequest {
  method: "GET" | "POST";
  /** Path and query, as sent. */
  path: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
}

/** No answer on a socket that had carried one before: the request may be sent again. */
export class LeanStaleSocket extends Error {
  override readonly name = "LeanStaleSocket";
}

const CRLF_CRLF = Buffer.from("\r\n\r\n");

/** Reads one answer's head and body off a socket; what follows the body stays for the next. */
class AnswerReader {
  #buffer: Buffer = Buffer.alloc(0);
  #answer: LeanAnswer | undefined;
  /** Body bytes still to come: a number (content-length), "chunked", or "close". */
  #framing: number | "chunked" | "close" = 0;
  /** In a chunked body: bytes of the current chunk left; -1 while reading a size line. */
  #chunkLeft = -1;
  #trailers = false;
  #done = false;
  readonly #onHead: (answer: LeanAnswer) => void;
  readonly #onEnd: (reusable: boolean) => void;
  #reusable = true;
  readonly #makeBody: () => Readable;

  constructor(
    makeBody: () => Readable,
    onHead: (answer: LeanAnswer) => void,
    onEnd: (reusable: boolean) => void,
  ) {
    this.#makeBody = makeBody;
    this.#onHead = onHead;
    this.#onEnd = onEnd;
  }

  get started(): boolean {
    return this.#answer !== undefined || this.#buffer.length > 0;
  }

  get done(): boolean {
    return this.#done;
  }

  /** The socket closed: an answer framed by the close ends; any other is cut short. */
  closed(): Error | undefined {
    if (this.#done) return undefined;
    if (this.#answer && this.#framing === "close") {
      this.#finish(false);
      return undefined;
    }
    return new Error("the server closed the connection before its answer ended");
  }

  feed(data: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    if (!this.#answer && !this.#readHead()) return;
    this.#readBody();
  }

  #readHead(): boolean {
    const end = this.#buffer.indexOf(CRLF_CRLF);
    if (end < 0) return false;
    const lines = this.#buffer.subarray(0, end).toString("latin1").split("\r\n");
    this.#buffer = this.#buffer.subarray(end + 4);
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
    if (!status) throw new Error(`not an HTTP answer: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const statusCode = Number(status[2]);
    const connection = (headers["connection"] ?? "").toLowerCase();
    this.#reusable =
      status[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
      this.#framing = "chunked";
    } else if (headers["content-length"] !== undefined) {
      this.#framing = Number(headers["content-length"]);
      if (!Number.isSafeInteger(this.#framing) || this.#framing < 0)
        throw new Error(`bad content-length ${headers["content-length"]}`);
    } else if (statusCode === 204 || statusCode === 304) {
      this.#framing = 0;
    } else {
      this.#framing = "close";
      this.#reusable = false;
    }
    const body = this.#makeBody() as LeanAnswer;
    body.statusCode = statusCode;
    body.headers = headers;
    this.#answer = body;
    this.#onHead(body);
    return true;
  }

  #readBody(): void {
    const body = this.#answer;
    if (!body || this.#done) return;
    if (this.#framing === "close") {
      if (this.#buffer.length > 0) body.push(this.#buffer);
      this.#buffer = Buffer.alloc(0);
      return;
    }
    if (typeof this.#framing === "number") {
      const taken = this.#buffer.subarray(0, this.#framing);
      this.#buffer = this.#buffer.subarray(taken.length);
      this.#framing -= taken.length;
      if (taken.length > 0) body.push(taken);
      if (this.#framing === 0) this.#finish(this.#reusable);
      return;
    }
    this.#readChunks(body);
  }

  #readChunks(body: LeanAnswer): void {
    for (;;) {
      if (this.#chunkLeft > 0) {
        const taken = this.#buffer.subarray(0, this.#chunkLeft);
        if (taken.length === 0) return;
        this.#buffer = this.#buffer.subarray(taken.length);
        this.#chunkLeft -= taken.length;
        body.push(taken);
        if (this.#chunkLeft > 0) return;
        this.#chunkLeft = -2; // the CRLF after a chunk's data
      }
      const lineEnd = this.#buffer.indexOf("\r\n");
      if (lineEnd < 0) return;
      const line = this.#buffer.subarray(0, lineEnd).toString("latin1");
      this.#buffer = this.#buffer.subarray(lineEnd + 2);
      if (this.#chunkLeft === -2) {
        this.#chunkLeft = -1;
        continue;
      }
      if (this.#trailers) {
        // Trailers end with an empty line; their content says nothing the protocol reads.
        if (line === "") {
          this.#finish(this.#reusable);
          return;
        }
        continue;
      }
      const size = Number.parseInt(line.split(";")[0] ?? "", 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad chunk size ${line}`);
      if (size === 0) this.#trailers = true;
      else this.#chunkLeft = size;
    }
  }

  #finish(reusable: boolean): void {
    this.#done = true;
    this.#answer?.push(null);
    this.#onEnd(reusable && this.#buffer.length === 0);
  }
}

/** Requests to one `host:port`, over kept-alive sockets made with node:net. */
export class LeanHttpClient {
  readonly #host: string;
  readonly #port: number;
  readonly #idle: Socket[] = [];
  readonly #busy = new Set<Socket>();
  #closed = false;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /**
   * Sends `req` and resolves with the answer once its head is read; its body follows as a
   * stream. `timeoutMs`: no head in that time fails it. A kept-alive socket that the server
   * closed just as the request went out fails with LeanStaleSocket: the request was never read.
   */
  request(req: LeanRequest, timeoutMs?: number): Promise<LeanAnswer> {
    if (this.#closed) return Promise.reject(new Error("the client is closed"));
    const reused = this.#idle.pop();
    const socket = reused ?? this.#connect();
    this.#busy.add(socket);
    socket.ref();
    const { Readable } = process.getBuiltinModule("node:stream");
    return new Promise<LeanAnswer>((resolve, reject) => {
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      // The answer once its head is read: an error after that ends its body.
      let current: LeanAnswer | undefined;
      const body = (): Readable => {
        const stream = new Readable({ read() {} });
        // Destroying the body before its end (a stream given up) gives up the socket too.
        stream.on("close", () => {
          if (!reader.done) socket.destroy();
        });
        return stream;
      };
      const reader = new AnswerReader(
        body,
        (answer) => {
          answered = true;
          current = answer;
          clearTimeout(timer);
          resolve(answer);
        },
        (reusable) => {
          detach();
          this.#busy.delete(socket);
          if (reusable && !this.#closed && !socket.destroyed) {
            socket.unref();
            this.#idle.push(socket);
          } else {
            socket.destroy();
          }
        },
      );
      const onData = (data: Buffer): void => {
        try {
          reader.feed(data);
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const fail = (error: Error): void => {
        detach();
        this.#busy.delete(socket);
        socket.destroy();
        if (!answered) {
          clearTimeout(timer);
          reject(reused && !reader.started ? new LeanStaleSocket(error.message) : error);
        } else if (!reader.done && current) {
          // As node:http does: a body cut short errs only to whoever listens for it.
          current.destroy(current.listenerCount("error") > 0 ? error : undefined);
        }
      };
      const onError = (error: Error): void => fail(error);
      const onClose = (): void => {
        const cut = reader.closed();
        if (cut) fail(cut);
        else {
          detach();
          this.#busy.delete(socket);
        }
      };
      const detach = (): void => {
        socket.off("data", onData);
        socket.off("error", onError);
        socket.off("close", onClose);
      };
      socket.on("data", onData);
      socket.on("error", onError);
      socket.on("close", onClose);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => fail(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }
      const head = [
        `${req.method} ${req.path} HTTP/1.1`,
        `host: ${this.#host.includes(":") ? `[${this.#host}]` : this.#host}:${this.#port}`,
        "connection: keep-alive",
        ...Object.entries(req.headers).map(([name, value]) => `${name}: ${value}`),
        ...(req.body === undefined
          ? []
          : [`content-length: ${Buffer.byteLength(req.body, "utf8")}`]),
      ];
      socket.write(`${head.join("\r\n")}\r\n\r\n${req.body ?? ""}`, "utf8");
    });
  }

  close(): void {
    this.#closed = true;
    for (const socket of [...this.#idle, ...this.#busy]) socket.destroy();
    this.#idle.length = 0;
    this.#busy.clear();
  }

  #connect(): Socket {
    const { connect } = process.getBuiltinModule("node:net");
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    // An idle socket the server closes leaves the pool; its error says nothing to anyone.
    socket.on("close", () => {
      const at = this.#idle.indexOf(socket);
      if (at >= 0) this.#idle.splice(at, 1);
    });
    socket.on("error", () => undefined);
    return socket;
  }
}
