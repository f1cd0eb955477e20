import { homedir } from "node:os";
import { join } from "node:path";
import { ExitCode, UserError } from "../common/errors.ts";
import { createAuthenticator, loadAuthConfig } from "../server/auth.ts";
import { DEFAULT_RETAIN_MS } from "../server/defaults.ts";
import type { ServerOptions } from "../server/server.ts";
import { formatDuration, parseBytes, parseDurationMs } from "../common/units.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import type { Clock } from "./deps.ts";
import { startEmbeddedServer, type StartServer } from "./embedded-server.ts";
import { untilAborted } from "./lifecycle.ts";
import { logFormatOptions, loggerFor } from "./log-format.ts";
import { ENTRY_GROUP } from "../orchestration/jobs/names.ts";

const options = {
  ...logFormatOptions,
  host: {
    type: "string",
    default: "127.0.0.1",
    describe: "Address to bind; other than loopback only with --token or --auth-public-key",
  },
  port: { type: "number", default: 8001, describe: "Port to listen on (0 picks a free one)" },
  data: {
    type: "string",
    describe: "Directory of the durable store [default: ~/.modulate/server]",
  },
  "in-memory": {
    type: "boolean",
    default: false,
    describe: "Keep nothing on disk (for trials): a restart loses everything",
  },
  token: {
    type: "string",
    describe: "Shared bearer token every client must present (or RESONATE_TOKEN)",
  },
  "auth-public-key": {
    type: "string",
    describe: "PEM public key (RSA, EC or Ed25519) that verifies client JWTs",
  },
  retain: {
    type: "string",
    default: formatDuration(DEFAULT_RETAIN_MS),
    describe: "Delete settled promises older than this",
  },
  "max-body": {
    type: "string",
    default: "10M",
    describe: "Largest request body accepted; larger gets 413",
  },
  "metrics-public": {
    type: "boolean",
    default: false,
    describe: "Serve GET /metrics without a token even when --token or --auth-public-key is set",
  },
  sync: {
    choices: ["full", "normal"] as const,
    default: "full" as const,
    describe: "full: each commit survives power loss; normal: survives a crash of the process",
  },
} as const;

export const serverCommand = defineCommand({
  command: "server",
  describe: "Run the embedded, durable Resonate server",
  options,
  epilogue: "Point modulate at a real Resonate server instead with --url or RESONATE_URL.",
  run: (args, ctx) => runServer(args, ctx, { startServer: startEmbeddedServer, clock: Date.now }),
});

export type ServerArgs = ModeArgs<typeof options>;

/** What `server` does to the world, handed in. */
export interface ServerDeps {
  /** Starts the server; its start failures come back in the user's words. */
  readonly startServer: StartServer;
  /** The server's time for checking tokens' expiry. */
  readonly clock: Clock;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function serverOptionsFrom(
  args: ServerArgs,
  env: NodeJS.ProcessEnv,
  clock: Clock,
): ServerOptions {
  const token = args.token ?? env["RESONATE_TOKEN"];
  const auth = loadAuthConfig({
    ...(token === undefined ? {} : { token }),
    ...(args.authPublicKey === undefined ? {} : { publicKeyFile: args.authPublicKey }),
    // Every tenant submits through the routers: their group takes work from any prefix.
    openGroups: [ENTRY_GROUP],
  });
  if (!isLoopback(args.host) && auth.kind === "none") {
    throw new UserError(
      `--host ${args.host} would expose the server without authentication: add --token or --auth-public-key, or bind 127.0.0.1`,
    );
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new UserError(`--port ${args.port} is not a port: use a whole number from 0 to 65535`);
  }
  const dataDir = args.inMemory
    ? undefined
    : (args.data ?? join(env["HOME"] ?? homedir(), ".modulate", "server"));
  return {
    host: args.host,
    port: args.port,
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(auth.kind === "none" ? {} : { auth: createAuthenticator(auth, clock) }),
    retainMs: parseDurationMs(args.retain, "--retain"),
    maxBodyBytes: parseBytes(args.maxBody, "--max-body"),
    sync: args.sync,
    ...(args.metricsPublic ? { metricsPublic: true } : {}),
  };
}

export async function runServer(
  args: ServerArgs,
  ctx: CliContext,
  deps: ServerDeps,
): Promise<number> {
  const serverOptions = serverOptionsFrom(args, ctx.env, deps.clock);
  const log = loggerFor(args.logFormat, "server", ctx);
  const server = await deps.startServer({
    ...serverOptions,
    onError: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      log.error("server.error", `modulate server: ${message}`, { error: message });
    },
  });
  const where = server.databasePath === ":memory:" ? "in memory only" : server.databasePath;
  log.info("server.listening", `modulate server listening on ${server.url} (store: ${where})`, {
    url: server.url,
    store: server.databasePath,
  });
  await untilAborted(ctx.signal);
  await server.close();
  log.info("server.stopped", "modulate server stopped");
  return ExitCode.ok;
}
