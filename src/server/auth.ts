// Who may talk to `modulate server`, with the Resonate server's rules: no auth, a shared
// bearer token, or JWTs signed by a key whose public half the server holds.
import { constants, createHash, createPublicKey, timingSafeEqual, verify } from "node:crypto";
import type { KeyObject, SigningOptions } from "node:crypto";
import { readFileSync } from "node:fs";
import { UserError } from "../errors.ts";

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
// RFC 7518 §3.3 requires RSA keys of at least 2048 bits for RS*/PS*.
const MIN_RSA_MODULUS_BITS = 2048;

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

type SignatureScheme = { hash: string | null; options: SigningOptions };
type Claims = Record<string, unknown>;

// Each key type admits only the JWS algorithms built for it (RFC 7518 §3.1), so a token
// cannot pick a weaker or different algorithm than the key implies. ECDSA algorithms are
// tied to their curve, and JWS carries ECDSA signatures as raw r||s, not DER.
function signatureSchemes(key: KeyObject): ReadonlyMap<string, SignatureScheme> | undefined {
  const pss = {
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  };
  const rawEcdsa = { dsaEncoding: "ieee-p1363" } as const;
  switch (key.asymmetricKeyType) {
    case "rsa":
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) return undefined;
      return new Map(
        ["256", "384", "512"].flatMap((bits) => [
          [`RS${bits}`, { hash: `sha${bits}`, options: {} }],
          [`PS${bits}`, { hash: `sha${bits}`, options: pss }],
        ]),
      );
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const bits = curve === "prime256v1" ? "256" : curve === "secp384r1" ? "384" : undefined;
      return bits && new Map([[`ES${bits}`, { hash: `sha${bits}`, options: rawEcdsa }]]);
    }
    case "ed25519":
      return new Map([["EdDSA", { hash: null, options: {} }]]);
    default:
      return undefined;
  }
}

/** Why a PEM text cannot verify JWTs here, or undefined when it can. */
function keyProblem(pemOrKey: string | KeyObject): string | undefined {
  let key: KeyObject;
  try {
    key = typeof pemOrKey === "string" ? createPublicKey(pemOrKey) : pemOrKey;
  } catch {
    return "is not a PEM public key: pass a file that begins with -----BEGIN PUBLIC KEY-----";
  }
  if (signatureSchemes(key) !== undefined) return undefined;
  const { modulusLength, namedCurve } = key.asymmetricKeyDetails ?? {};
  const found = modulusLength ? `${modulusLength} bits` : (namedCurve ?? "");
  return (
    `holds a ${key.asymmetricKeyType ?? ""} key ${found}`.trimEnd() +
    `: use RSA of at least ${MIN_RSA_MODULUS_BITS} bits, EC P-256 or P-384, or Ed25519`
  );
}

function verifyJwt(
  token: string,
  key: KeyObject,
  schemes: ReadonlyMap<string, SignatureScheme>,
  nowMs: number,
): { claims: Claims } | Rejection {
  // Three base64url parts; the signature may be empty here so that alg "none" gets its own
  // reason below.
  const parts = /^([\w-]+)\.([\w-]+)\.([\w-]*)$/.exec(token);
  if (parts === null) {
    return unauthorized("malformed token: expected a JWT, three base64url parts joined by '.'");
  }
  const [, encodedHeader = "", encodedPayload = "", encodedSignature = ""] = parts;
  const header = decodeJsonObject(encodedHeader);
  if (header === undefined || typeof header.alg !== "string") {
    return unauthorized("malformed token: the header is not a JSON object with an 'alg'");
  }
  if (header.alg === "none") return unauthorized("unsigned tokens (alg 'none') are not accepted");
  const scheme = schemes.get(header.alg);
  if (scheme === undefined) {
    const expected = [...schemes.keys()].join(", ");
    return unauthorized(
      `token algorithm ${quote(header.alg)} does not fit the server's key: use ${expected}`,
    );
  }
  // RFC 7515 §4.1.11: a token whose critical extensions we do not understand must be rejected.
  if (header.crit !== undefined) return unauthorized("token header has 'crit': none supported");
  let isGenuine: boolean;
  try {
    const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`, "ascii");
    const signature = Buffer.from(encodedSignature, "base64url");
    isGenuine = verify(scheme.hash, signed, { key, ...scheme.options }, signature);
  } catch {
    isGenuine = false;
  }
  if (!isGenuine) return unauthorized("token signature does not match the server's public key");

  const claims = decodeJsonObject(encodedPayload);
  if (claims === undefined) return unauthorized("malformed token: the payload is not JSON");
  const { exp, nbf } = claims;
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    return unauthorized("token has no numeric 'exp' claim: issue tokens that expire");
  }
  if (exp * 1000 <= nowMs) return unauthorized(`token expired at ${formatInstant(exp)}`);
  if (nbf !== undefined) {
    if (typeof nbf !== "number" || !Number.isFinite(nbf)) {
      return unauthorized("token's 'nbf' claim is not a number of seconds since the epoch");
    }
    if (nbf * 1000 > nowMs) return unauthorized(`token is not valid before ${formatInstant(nbf)}`);
  }
  return { claims };
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

function decodeJsonObject(encoded: string): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Claims)
      : undefined;
  } catch {
    return undefined;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function formatInstant(secondsSinceEpoch: number): string {
  const date = new Date(secondsSinceEpoch * 1000);
  return Number.isNaN(date.getTime())
    ? `${secondsSinceEpoch} s since the epoch`
    : date.toISOString().replace(".000Z", "Z");
}

/** Quotes text from the request for a one-line reason: control characters escaped, length capped. */
function quote(text: string): string {
  const escaped = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
  return `'${escaped.slice(1, -1)}'`;
}
