// Who may talk to `modulate server`, with the Resonate server's rules: no auth, a shared
// bearer token, or JWTs signed by a key whose public half the server holds.
import { createHash, createPublicKey, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { UserError } from "../errors.ts";
import { keyProblem, quote, signatureSchemes, verifyJwt, type Claims } from "./jwt.ts";

export type AuthConfig =
  { kind: "none" } | { kind: "token"; token: string } | { kind: "jwt"; publicKeyPem: string };

/** 401: the caller is unknown (no, malformed, forged or expired token); 403: known, not allowed. */
export type AuthDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** The fields of a Resonate request that authentication reads; the HTTP layer's envelope fits. */
export type AuthEnvelope = { kind: string; head: { auth?: string }; data: unknown };

export type Authenticator = {
  /** POST / : the token travels in `head.auth`. */
  checkRequest(envelope: AuthEnvelope): AuthDecision;
  /** GET /poll : the token travels in an `Authorization: Bearer <token>` header. */
  checkPoll(authorizationHeader: string | undefined): AuthDecision;
};

type Rejection = Extract<AuthDecision, { ok: false }>;
const ALLOWED: AuthDecision = { ok: true };
const unauthorized = (reason: string): Rejection => ({ ok: false, status: 401, reason });
const forbidden = (reason: string): Rejection => ({ ok: false, status: 403, reason });
const MISSING = "missing token: pass --token or set RESONATE_TOKEN";

/** Reads the server's auth options; `publicKeyFile` is read and checked here, once, at start-up. */
export function loadAuthConfig(opts: { token?: string; publicKeyFile?: string }): AuthConfig {
  const { token, publicKeyFile } = opts;
  if (token !== undefined && publicKeyFile !== undefined) {
    throw new UserError(
      "a token and a public key file were both given: pick one (a shared token, or JWTs checked with the public key)",
    );
  }
  if (token !== undefined) {
    // The same token must fit an HTTP header on GET /poll, so keep it to visible ASCII.
    if (token === "") throw new UserError("--token is empty: pass a token, or leave it out");
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new UserError(
        "--token has spaces or non-ASCII characters: it travels in an HTTP header",
      );
    }
    return { kind: "token", token };
  }
  if (publicKeyFile === undefined) return { kind: "none" };

  let publicKeyPem: string;
  try {
    publicKeyPem = readFileSync(publicKeyFile, "utf8");
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(
      `cannot read public key file '${publicKeyFile}' (${cause}): pass the path of a PEM public key`,
    );
  }
  // createPublicKey would happily derive a public key from a private one; refuse, so the
  // private half does not end up on the server by mistake.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(publicKeyPem)) {
    throw new UserError(
      `'${publicKeyFile}' holds a private key: give the server only the public half (openssl pkey -in KEY -pubout)`,
    );
  }
  const problem = keyProblem(publicKeyPem);
  if (problem !== undefined) throw new UserError(`'${publicKeyFile}' ${problem}`);
  return { kind: "jwt", publicKeyPem };
}

/** `clock` returns milliseconds since the epoch; it decides whether a JWT has expired. */
export function createAuthenticator(config: AuthConfig, clock: () => number): Authenticator {
  switch (config.kind) {
    case "none":
      return { checkRequest: () => ALLOWED, checkPoll: () => ALLOWED };
    case "token": {
      const expected = sha256(config.token);
      const check = (given: string): AuthDecision => {
        if (given === "") return unauthorized(MISSING);
        // Comparing fixed-length digests keeps the comparison constant-time and hides the
        // token's length, which comparing the raw strings would reveal on a length mismatch.
        return timingSafeEqual(sha256(given), expected)
          ? ALLOWED
          : unauthorized("token does not match the server's token");
      };
      return {
        checkRequest: (envelope) => check(stringOr(envelope.head.auth)),
        checkPoll: (header) => withBearer(header, check),
      };
    }
    case "jwt": {
      const key = createPublicKey(config.publicKeyPem);
      const schemes = signatureSchemes(key);
      if (schemes === undefined) throw new UserError(`the public key ${keyProblem(key)}`);
      const verifyToken = (token: string) => verifyJwt(token, key, schemes, clock());
      return {
        checkRequest(envelope) {
          const token = stringOr(envelope.head.auth);
          if (token === "") return unauthorized(MISSING);
          const result = verifyToken(token);
          return "reason" in result ? result : authorize(result.claims, envelope);
        },
        // Poll only delivers messages addressed to the caller, so a valid token is enough.
        checkPoll: (header) =>
          withBearer(header, (token) => {
            const result = verifyToken(token);
            return "reason" in result ? result : ALLOWED;
          }),
      };
    }
  }
}

function authorize(claims: Claims, envelope: AuthEnvelope): AuthDecision {
  const { role, prefix } = claims;
  if (typeof role === "string" && role.toLowerCase() === "admin") return ALLOWED;
  if (typeof prefix !== "string") {
    return forbidden("token has neither role 'admin' nor a string 'prefix' claim");
  }
  const kind = envelope.kind;
  const outside = resourceIds(kind, envelope.data).find((id) => !id.startsWith(prefix));
  if (outside === undefined) return ALLOWED;
  // Searches and unknown kinds name no id, so only an empty prefix covers them: the
  // Resonate server behaves the same way, and we keep it so tokens mean the same on both.
  return forbidden(
    outside === ""
      ? `${quote(kind)} names no id, so only an empty prefix or role 'admin' may send it (this token's prefix is ${quote(prefix)})`
      : `id ${quote(outside)} is outside this token's prefix ${quote(prefix)}`,
  );
}

// Where each request kind names the resource it touches; a missing or non-string id reads
// as "", which only an empty prefix covers, so malformed requests fail closed.
const ID_PATH_BY_KIND = new Map<string, readonly string[]>([
  ["promise.register_callback", ["awaited"]],
  ["promise.register_listener", ["awaited"]],
  ["schedule.create", ["promiseId"]],
  ["task.create", ["action", "data", "id"]],
]);
const TASK_VERBS = "get acquire release fulfill suspend fence halt continue".split(" ");
for (const kind of [
  ..."promise.get promise.create promise.settle schedule.get schedule.delete".split(" "),
  ...TASK_VERBS.map((verb) => `task.${verb}`),
]) {
  ID_PATH_BY_KIND.set(kind, ["id"]);
}

function resourceIds(kind: string, data: unknown): string[] {
  if (kind === "task.heartbeat") {
    const tasks = field(data, "tasks");
    return Array.isArray(tasks) ? tasks.map((task) => stringOr(field(task, "id"))) : [""];
  }
  const path = ID_PATH_BY_KIND.get(kind);
  if (path === undefined) return [""];
  let value = data;
  for (const name of path) value = field(value, name);
  return [stringOr(value)];
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function withBearer(
  header: string | undefined,
  check: (token: string) => AuthDecision,
): AuthDecision {
  if (header === undefined || header.trim() === "") return unauthorized(MISSING);
  // RFC 7235: the scheme name is case-insensitive.
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] === undefined
    ? unauthorized("Authorization header must be 'Bearer <token>'")
    : check(match[1]);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
