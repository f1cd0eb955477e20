// What a token minted by `modulate token` claims: who holds it (an admin, or a tenant whose ids
// start with a prefix), until when, and for which issuer and audience. The claims are the ones
// the Resonate server reads (its src/auth.rs) and modulate's embedded server reads the same
// way (src/server/auth.ts). Pure: reading the key, the clock and signing are token.ts's.

/** An admin reaches everything; a tenant only the ids that start with its prefix. */
export type TokenScope = { readonly kind: "admin" } | { readonly kind: "prefix"; prefix: string };

export interface TokenClaimsRequest {
  readonly scope: TokenScope;
  /** Milliseconds since the epoch at minting. */
  readonly nowMs: number;
  readonly ttlMs: number;
  /** `iss`: only a server configured with an issuer (resonate serve --auth-iss) checks it. */
  readonly issuer?: string;
  /** `aud`: only a server configured with an audience (resonate serve --auth-aud) checks it. */
  readonly audience?: string;
}

export interface TokenClaims {
  readonly role?: "admin";
  readonly prefix?: string;
  /** Seconds since the epoch, as JWT's NumericDate (RFC 7519 §2). */
  readonly iat: number;
  readonly exp: number;
  readonly iss?: string;
  readonly aud?: string[];
}

// A prefix starts job ids, whose characters are letters, digits, '-' and '_' (names.ts): one
// with anything else would match no job. modulate's clients also listen on a group named
// `<prefix>modulate-client`, which a longer prefix would push past a group name's length.
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;
const MIN_TTL_MS = 1_000;

/** Why `prefix` cannot scope a token, or undefined when it can. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === "") {
    // The Resonate server reads an empty prefix as "every id", searches included: an admin
    // token in all but name. Asking for that by leaving a variable unset is too easy.
    return `--prefix is empty, which reaches every id: pass --admin for a token that reaches everything, or a tenant's prefix such as t1-`;
  }
  const separator = [".", ":"].find((c) => prefix.includes(c));
  if (separator !== undefined) {
    return `--prefix "${prefix}" holds '${separator}', which separates the ids of what a job creates from the job's own: use letters, digits, '-' and '_', e.g. t1-`;
  }
  if (!PREFIX.test(prefix)) {
    return `--prefix "${prefix}" is not the start of a job id: use letters, digits, '-' and '_' (at most 48, starting with a letter or digit), e.g. t1-`;
  }
  return undefined;
}

/** Why a validity of `ttlMs` cannot be minted, or undefined when it can. */
export function ttlProblem(ttlMs: number, ttlText: string): string | undefined {
  if (ttlMs >= MIN_TTL_MS) return undefined;
  return `--ttl "${ttlText}" is shorter than 1s: a token must outlive its minting, e.g. --ttl 12h or --ttl 30d`;
}

/** The claims to sign. `exp` is whole seconds, rounded down: never later than asked. */
export function tokenClaims(request: TokenClaimsRequest): TokenClaims {
  const { scope, nowMs, ttlMs, issuer, audience } = request;
  return {
    ...(scope.kind === "admin" ? { role: "admin" } : { prefix: scope.prefix }),
    iat: Math.floor(nowMs / 1000),
    exp: Math.floor((nowMs + ttlMs) / 1000),
    ...(issuer === undefined ? {} : { iss: issuer }),
    // An array, never a bare string: the Resonate server reads `aud` into a list of strings
    // (src/auth.rs, `aud: Option<Vec<String>>`), and a bare string fails to parse there, so
    // the token would be refused as invalid. RFC 7519 §4.1.3 allows either form.
    ...(audience === undefined ? {} : { aud: [audience] }),
  };
}

/**
 * The algorithm to sign with, among those the key admits. Both servers admit the same families
 * (RSA: RS/PS 256-512, EC: ES256 on P-256 and ES384 on P-384, Ed25519: EdDSA); of RSA's, RS256
 * is the one every JWT library verifies.
 */
const PREFERRED_ALGORITHMS = ["EdDSA", "ES256", "ES384", "RS256"] as const;

export function signingAlgorithm(admitted: Iterable<string>): string | undefined {
  const set = new Set(admitted);
  return PREFERRED_ALGORITHMS.find((alg) => set.has(alg));
}
