// The embedded server alone in a process of its own, for tests that must see whether a
// request can end the process, or that need the client and the server on separate event
// loops (as they are in use). Prints "listening on URL". Its one argument, JSON:
// {token?, maxBodyBytes?, bodyTimeoutMs?}.
import { createAuthenticator } from "../../src/server/auth.ts";
import { startServer } from "../../src/server/server.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as {
  token?: string;
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
};
const server = await startServer({
  host: "127.0.0.1",
  port: 0,
  ...(options.token === undefined
    ? {}
    : { auth: createAuthenticator({ kind: "token", token: options.token }, Date.now) }),
  ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
});
console.log(`listening on ${server.url}`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
