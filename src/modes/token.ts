// `modulate token`: mints a JWT for an operator or a tenant, signed with a PEM private key
// whose public half the server holds (modulate server --auth-public-key, or the Resonate
// server's --auth-publickey). Both verify the same tokens: the algorithm follows the key, among
// those both servers admit. What the token claims is token-claims.ts's.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { ExitCode, UserError } from "../common/errors.ts";
import { parseDurationMs } from "../common/units.ts";
import { keyProblem, signatureSchemes } from "../server/jwt.ts";
import { defineCommand, type CliContext, type ModeArgs } from "./command.ts";
import type { Clock } from "./deps.ts";
import {
  prefixProblem,
  signingAlgorithm,
  tokenClaims,
  ttlProblem,
  type TokenScope,
} from "./token-claims.ts";

const DEFAULT_TTL = "30d";
const NEW_KEY_HINT = "openssl genpkey -algorithm ed25519 -out jwt.pem";

const options = {
  key: {
    type: "string",
    describe: "PEM private key that signs: Ed25519, EC P-256 or P-384, or RSA of 2048+ bits",
  },
  prefix: {
    type: "string",
    describe: "A tenant's token: every id it names must start with this (e.g. t1-)",
  },
  admin: {
    type: "boolean",
    default: false,
    describe: "An operator's token: reaches every id, and may list and search (ls, workers, ui)",
  },
  ttl: { type: "string", describe: `How long the token is valid [default: ${DEFAULT_TTL}]` },
  iss: {
    type: "string",
    describe: "Issuer claim, for a Resonate server started with --auth-iss",
  },
  aud: {
    type: "string",
    describe: "Audience claim, for a Resonate server started with --auth-aud",
  },
  "public-key": {
    type: "boolean",
    default: false,
    describe: "Print the public half of --key for the server, instead of a token",
  },
} as const;

export const tokenCommand = defineCommand({
  command: "token",
  describe: "Mint a JWT for --token: an operator's (--admin) or a tenant's (--prefix)",
  options,
  epilogue: [
    `A key: ${NEW_KEY_HINT}`,
    "Its public half, for the server: modulate token --key jwt.pem --public-key > jwt.pub",
    "  (or: openssl pkey -in jwt.pem -pubout -out jwt.pub)",
    "Then: modulate server --auth-public-key jwt.pub, or resonate serve --auth-publickey jwt.pub",
    "Hand each token over as --token or RESONATE_TOKEN.",
  ].join("\n"),
  run: (args, ctx) => runToken(args, ctx, { clock: Date.now }),
});

export type TokenArgs = ModeArgs<typeof options>;

export interface TokenDeps {
  /** When the token is minted: its `iat`, and the start of its `--ttl`. */
  readonly clock: Clock;
}

export async function runToken(args: TokenArgs, ctx: CliContext, deps: TokenDeps): Promise<number> {
  if (args.key === undefined || args.key === "") {
    throw new UserError(
      `--key is missing: pass the PEM private key that signs tokens (a new one: ${NEW_KEY_HINT})`,
    );
  }
  if (args.publicKey) {
    const tokenOptions = ["prefix", "admin", "ttl", "iss", "aud"] as const;
    const given = tokenOptions.filter((name) => args[name] !== undefined && args[name] !== false);
    if (given.length > 0) {
      throw new UserError(
        `--public-key prints the key, not a token: leave out ${given.map((name) => `--${name}`).join(", ")}`,
      );
    }
    const publicPem = createPublicKey(signingKey(args.key).key).export({
      type: "spki",
      format: "pem",
    });
    ctx.stdout.write(publicPem.toString());
    return ExitCode.ok;
  }

  const scope = scopeOf(args.prefix, args.admin);
  const ttlText = args.ttl ?? DEFAULT_TTL;
  const ttlMs = parseDurationMs(ttlText, "--ttl");
  const tooShort = ttlProblem(ttlMs, ttlText);
  if (tooShort !== undefined) throw new UserError(tooShort);
  const issuer = nonEmpty(args.iss, "--iss", "the issuer the server expects (--auth-iss)");
  const audience = nonEmpty(args.aud, "--aud", "the audience the server expects (--auth-aud)");
  const { key, alg } = signingKey(args.key);

  const claims = tokenClaims({
    scope,
    nowMs: deps.clock(),
    ttlMs,
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  });
  // Loaded here, so that no other command pays for it.
  const { SignJWT } = await import("jose/jwt/sign");
  const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
  ctx.stdout.write(`${token}\n`);
  return ExitCode.ok;
}

function scopeOf(prefix: string | undefined, admin: boolean): TokenScope {
  if (admin && prefix !== undefined) {
    throw new UserError(
      "--admin and --prefix were both given: an admin token reaches every id; pick one",
    );
  }
  if (admin) return { kind: "admin" };
  if (prefix === undefined) {
    throw new UserError(
      "say whom the token is for: --prefix P for a tenant (its ids start with P), or --admin for an operator",
    );
  }
  const problem = prefixProblem(prefix);
  if (problem !== undefined) throw new UserError(problem);
  return { kind: "prefix", prefix };
}

function nonEmpty(value: string | undefined, option: string, what: string): string | undefined {
  if (value === "") throw new UserError(`${option} is empty: leave it out, or pass ${what}`);
  return value;
}

/** The private key in `file`, and the algorithm it signs with; a one-line error for anything else. */
function signingKey(file: string): { key: KeyObject; alg: string } {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(
      `cannot read --key file '${file}' (${cause}): pass the path of a PEM private key`,
    );
  }
  // Checked before parsing: a public key is a common mix-up, and worth its own answer.
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem) && /-----BEGIN [A-Z ]+-----/.test(pem)) {
    const label = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1] ?? "";
    throw new UserError(
      `--key '${file}' holds a ${label.toLowerCase()}, not a private key: --key takes the private key that signs; the server holds the public half`,
    );
  }
  // Read from the text, not from createPrivateKey's error, whose code differs between
  // OpenSSL versions: PKCS#8's label, or the header of a traditional (PKCS#1, SEC1) key.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(pem)) {
    throw new UserError(
      `--key '${file}' is encrypted with a passphrase: sign with a plain copy (openssl pkey -in ${file} -out plain.pem) kept as safe as the original`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UserError(
      `--key '${file}' is not a PEM private key: pass one that begins with -----BEGIN PRIVATE KEY----- (a new one: ${NEW_KEY_HINT})`,
    );
  }
  // What the embedded server admits for this key's public half is what the Resonate server
  // admits too (its src/auth.rs, load_public_key), so a token it verifies, both verify.
  const publicKey = createPublicKey(key);
  const schemes = signatureSchemes(publicKey);
  const alg = schemes && signingAlgorithm(schemes.keys());
  if (alg === undefined) throw new UserError(`--key '${file}' ${keyProblem(publicKey) ?? ""}`);
  return { key, alg };
}
