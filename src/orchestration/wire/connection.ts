// Which Resonate server a client talks to, and with what token. Kept apart from the
// protocol code so that command-line parsing loads nothing heavy.
import { UserError } from "../../common/errors.ts";

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
  const given = url ?? env["RESONATE_URL"];
  if (given !== undefined) checkServerUrl(given, url !== undefined ? "--url" : "RESONATE_URL");
  return {
    url: (given ?? DEFAULT_URL).replace(/\/+$/, ""),
    ...(resolvedToken ? { token: resolvedToken } : {}),
  };
}

const DEFAULT_URL = "http://127.0.0.1:8001";

/** Refused here, in one line, rather than as a stack trace from the first request. */
function checkServerUrl(url: string, source: string): void {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol === "http:" || parsed?.protocol === "https:") return;
  throw new UserError(
    `${source} ${JSON.stringify(url)} is not an http(s) URL: give the server's address, e.g. ${DEFAULT_URL}`,
  );
}
