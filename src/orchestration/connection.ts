// Which Resonate server a client talks to, and with what token. Kept apart from the
// protocol code so that command-line parsing loads nothing heavy.

export interface Connection {
  url: string;
  token?: string;
}

/** The server to use: --url, else RESONATE_URL, else the embedded default on this machine. */
export function resolveConnection(
  url: string | undefined,
  token: string | undefined,
  env: NodeJS.ProcessEnv,
): Connection {
  const resolvedToken = token ?? env["RESONATE_TOKEN"];
  return {
    url: (url ?? env["RESONATE_URL"] ?? "http://127.0.0.1:8001").replace(/\/+$/, ""),
    ...(resolvedToken ? { token: resolvedToken } : {}),
  };
}
