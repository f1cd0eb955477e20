// A proxy in front of a server that drops one response header, streams included: what a
// Resonate server (or an nginx in front of one) looks like to modulate, which says nothing of
// its request limit. Tests stop it with close().
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Proxy {
  url: string;
  close(): Promise<void>;
}

export async function headerStrippingProxy(target: string, header: string): Promise<Proxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const forwarded = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const headers = { ...answer.headers };
        delete headers[header];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
