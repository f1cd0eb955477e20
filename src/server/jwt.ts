// JSON Web Tokens, checked with node:crypto alone: the signature against the server's public
// key with an algorithm that key admits, then the time claims. Who may do what with a
// valid token is auth.ts's business.
import { constants, createPublicKey, verify } from "node:crypto";
import type { KeyObject, SigningOptions } from "node:crypto";

// RFC 7518 §3.3 requires RSA keys of at least 2048 bits for RS*/PS*.
const MIN_RSA_MODULUS_BITS = 2048;

export type Claims = Record<string, unknown>;
export type SignatureScheme = { hash: string | null; options: SigningOptions };
/** A token that cannot be trusted: always 401, the caller is unknown. */
export type InvalidToken = { ok: false; status: 401; reason: string };

const unauthorized = (reason: string): InvalidToken => ({ ok: false, status: 401, reason });

// Each key type admits only the JWS algorithms built for it (RFC 7518 §3.1), so a token
// cannot pick a weaker or different algorithm than the key implies. ECDSA algorithms are
// tied to their curve, and JWS carries ECDSA signatures as raw r||s, not DER.
export function signatureSchemes(key: KeyObject): ReadonlyMap<string, SignatureScheme> | undefined {
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
export function keyProblem(pemOrKey: string | KeyObject): string | undefined {
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

export function verifyJwt(
  token: string,
  key: KeyObject,
  schemes: ReadonlyMap<string, SignatureScheme>,
  nowMs: number,
): { claims: Claims } | InvalidToken {
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

function formatInstant(secondsSinceEpoch: number): string {
  const date = new Date(secondsSinceEpoch * 1000);
  return Number.isNaN(date.getTime())
    ? `${secondsSinceEpoch} s since the epoch`
    : date.toISOString().replace(".000Z", "Z");
}

/** Quotes text from the request for a one-line reason: control characters escaped, length capped. */
export function quote(text: string): string {
  const escaped = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
  return `'${escaped.slice(1, -1)}'`;
}
