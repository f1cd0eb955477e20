// Who may talk to `modulate server`, with the Resonate server's rules: no auth, a shared
// bearer token, or JWTs signed by a key whose public half the server holds. What a JWT's
// prefix scopes is prefix-scope.ts's table, stricter than the Resonate server's (issue 12).
import { createHash, createPublicKey, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { UserError } from "../common/errors.ts";
import { keyProblem, quote, signatureSchemes, verifyJwt, type Claims } from "./jwt.ts";
import { outsidePrefix, pollReach, reachOf, type Reach } from "./prefix-scope.ts";

export type AuthConfig =
  | { kind: "none" }
  | { kind: "token"; token: string }
  | {
      kind: "jwt";
      publicKeyPem: string;
      /**
       * Groups that serve every tenant: a token scoped to a prefix may address work to them
       * (a promise's `resonate:target`), though their names are outside its prefix. Polling
       * them, and so receiving that work, stays outside it. modulate's routers' group.
       */
      openGroups?: readonly string[];
    };

/** 401: the caller is unknown (no, malformed, forged or expired token); 403: known, not allowed. */
export type AuthDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** The fields of a Resonate request that authentication reads; the HTTP layer's envelope fits. */
export type AuthEnvelope = { kind: string; head: { auth?: string }; data: unknown };

export type Authenticator = {
  /** What it was made from, so the engine's thread can make its own (a function cannot cross). */
  readonly config: AuthConfig;
  /** POST / : the token travels in `head.auth`. */
  checkRequest(envelope: AuthEnvelope): AuthDecision;
  /**
   * GET /poll/GROUP/PID : the token travels in an `Authorization: Bearer <token>` header; a
   * JWT's prefix must cover the group and the pid.
   */
  checkPoll(authorizationHeader: string | undefined, group: string, pid: string): AuthDecision;
  /**
   * GET /metrics : a bearer token as for a poll stream. The figures are the whole cluster's,
   * so a JWT must carry role 'admin': a tenant's prefix does not cover them.
   */
  checkMetrics(authorizationHeader: string | undefined): AuthDecision;
};

type Rejection = Extract<AuthDecision, { ok: false }>;
const ALLOWED: AuthDecision = { ok: true };
const unauthorized = (reason: string): Rejection => ({ ok: false, status: 401, reason });
const forbidden = (reason: string): Rejection => ({ ok: false, status: 403, reason });
const MISSING = "missing token: pass --token or set RESONATE_TOKEN";
const ADMIN_ROLE = "admin";

/** Reads the server's auth options; `publicKeyFile` is read and checked here, once, at start-up. */
export function loadAuthConfig(opts: {
  token?: string;
  publicKeyFile?: string;
  openGroups?: readonly string[];
}): AuthConfig {
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
  return { kind: "jwt", publicKeyPem, ...(opts.openGroups ? { openGroups: opts.openGroups } : {}) };
}

/** `clock` returns milliseconds since the epoch; it decides whether a JWT has expired. */
export function createAuthenticator(config: AuthConfig, clock: () => number): Authenticator {
  switch (config.kind) {
    case "none":
      return {
        config,
        checkRequest: () => ALLOWED,
        checkPoll: () => ALLOWED,
        checkMetrics: () => ALLOWED,
      };
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
        config,
        checkRequest: (envelope) => check(stringOr(envelope.head.auth)),
        checkPoll: (header) => withBearer(header, check),
        checkMetrics: (header) => withBearer(header, check),
      };
    }
    case "jwt": {
      const key = createPublicKey(config.publicKeyPem);
      const schemes = signatureSchemes(key);
      if (schemes === undefined) throw new UserError(`the public key ${keyProblem(key)}`);
      const verifyToken = (token: string) => verifyJwt(token, key, schemes, clock());
      const openGroups = new Set(config.openGroups ?? []);
      return {
        config,
        checkRequest(envelope) {
          const token = stringOr(envelope.head.auth);
          if (token === "") return unauthorized(MISSING);
          const result = verifyToken(token);
          if ("reason" in result) return result;
          const { kind, data } = envelope;
          return authorize(result.claims, kind, reachOf(kind, data, openGroups));
        },
        // A poll stream receives whatever is addressed to its group and pid, so both must be
        // the tenant's: the Resonate server checks only the token here, and lets any tenant
        // read another's execute messages.
        checkPoll: (header, group, pid) =>
          withBearer(header, (token) => {
            const result = verifyToken(token);
            if ("reason" in result) return result;
            return authorize(result.claims, "/poll", pollReach(group, pid));
          }),
        checkMetrics: (header) =>
          withBearer(header, (token) => {
            const result = verifyToken(token);
            if ("reason" in result) return result;
            return result.claims.role === ADMIN_ROLE
              ? ALLOWED
              : forbidden(
                  "/metrics shows every tenant's figures: use a token with role 'admin', or start the server with --metrics-public",
                );
          }),
      };
    }
  }
}

/**
 * Role "admin" reaches everything; any other token only the names its `prefix` covers. The
 * role is matched exactly: the Resonate server lower-cases it, but a token an issuer minted
 * as "ADMIN" for some other meaning should not become an admin here by accident.
 */
function authorize(claims: Claims, kind: string, reach: Reach): AuthDecision {
  const { role, prefix } = claims;
  if (role === ADMIN_ROLE) return ALLOWED;
  if (typeof prefix !== "string") {
    const near =
      typeof role === "string" && role.toLowerCase() === ADMIN_ROLE
        ? ` (role ${quote(role)} is not 'admin': roles are matched exactly)`
        : "";
    return forbidden(`token has neither role 'admin' nor a string 'prefix' claim${near}`);
  }
  const outside = outsidePrefix(kind, reach, prefix);
  return outside === undefined ? ALLOWED : forbidden(outside);
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function withBearer(
  header: string | undefined,
  check: (token: string) => AuthDecision,
): AuthDecision {
  if (header === undefined || header.trim() === "") return unauthorized(MISSING);
  // Exactly what the Resonate server takes (`strip_prefix("Bearer ")`) and every Resonate
  // client sends, so a header this server accepts is one the real server accepts too.
  const match = /^Bearer (\S+)$/.exec(header);
  return match?.[1] === undefined
    ? unauthorized("Authorization header must be exactly 'Bearer <token>': capital B, one space")
    : check(match[1]);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
