// Builds compact JWS tokens for the auth tests with node:crypto alone, so the tests check
// the server against the JWS format itself rather than against another JWT library.
import { constants, generateKeyPairSync, sign } from "node:crypto";
import type { KeyObject, SigningOptions } from "node:crypto";

export type TestKeyPair = { publicKeyPem: string; privateKey: KeyObject };

export function rsaKeyPair(modulusLength = 2048): TestKeyPair {
  return exported(generateKeyPairSync("rsa", { modulusLength }));
}

export function ecKeyPair(namedCurve: "P-256" | "P-384" | "P-521"): TestKeyPair {
  return exported(generateKeyPairSync("ec", { namedCurve }));
}

export function ed25519KeyPair(): TestKeyPair {
  return exported(generateKeyPairSync("ed25519"));
}

function exported(pair: { publicKey: KeyObject; privateKey: KeyObject }): TestKeyPair {
  const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  return { publicKeyPem, privateKey: pair.privateKey };
}

export function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/**
 * Signs `claims` under `header` with `privateKey`. The signing algorithm follows
 * `header.alg` unless `signAs` names another, which lets a test lie in the header.
 */
export function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKey: KeyObject,
  signAs: string = String(header.alg),
): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const { hash, options } = signingScheme(signAs);
  const signature = sign(hash, Buffer.from(signingInput), { key: privateKey, ...options });
  return `${signingInput}.${base64url(signature)}`;
}

function signingScheme(alg: string): { hash: string | null; options: SigningOptions } {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { hash: `sha${bits}`, options: {} };
  if (alg.startsWith("PS")) {
    const pss = {
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    };
    return { hash: `sha${bits}`, options: pss };
  }
  if (alg.startsWith("ES")) return { hash: `sha${bits}`, options: { dsaEncoding: "ieee-p1363" } };
  if (alg === "EdDSA") return { hash: null, options: {} };
  throw new Error(`jwt-helper cannot sign as ${alg}`);
}
