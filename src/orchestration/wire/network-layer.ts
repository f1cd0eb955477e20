// A layer over the SDK's Network that passes everything through to the network beneath it;
// a layer of the worker's network (the slot gate, the answer's delivery) overrides only what
// it changes.
import type { Message, Network, Request, Response } from "@resonatehq/sdk";

export abstract class NetworkLayer implements Network {
  protected readonly inner: Network;

  constructor(inner: Network) {
    this.inner = inner;
  }

  get unicast(): string {
    return this.inner.unicast;
  }
  get anycast(): string {
    return this.inner.anycast;
  }
  match(target: string): string {
    return this.inner.match(target);
  }
  init(): Promise<void> {
    return this.inner.init();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  recv(callback: (message: Message) => void): void {
    this.inner.recv(callback);
  }

  // An arrow, as the SDK may call `send` apart from its object.
  send = <K extends Request["kind"]>(
    req: Extract<Request, { kind: K }>,
  ): Promise<Extract<Response, { kind: K }>> => this.inner.send(req);
}
