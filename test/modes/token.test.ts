// `modulate token` called directly (runToken) and through the real parser (main): the tokens
// it mints are checked by the embedded server's own verifier (src/server/jwt.ts, auth.ts), for
// every kind of key both servers admit; what it refuses, it refuses in one line with exit 2.
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.ts";
import { ExitCode, UserError } from "../../src/common/errors.ts";
import { runToken, tokenCommand } from "../../src/modes/token.ts";
import { prefixProblem, tokenClaims } from "../../src/modes/token-claims.ts";
import { createAuthenticator } from "../../src/server/auth.ts";
import { signatureSchemes, verifyJwt } from "../../src/server/jwt.ts";
import { stopAll, tempDir } from "../helpers/processes.ts";
import { captureContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

afterEach(stopAll);

const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);
const DAY_S = 86_400;

type KeyKind = "ed25519" | "ec-p256" | "ec-p384" | "ec-p521" | "rsa-2048" | "rsa-1024";

function privateKeyPem(kind: KeyKind, format: "pkcs8" | "traditional" = "pkcs8"): string {
  const pair =
    kind === "ed25519"
      ? generateKeyPairSync("ed25519")
      : kind.startsWith("ec")
        ? generateKeyPairSync("ec", { namedCurve: `P-${kind.slice(4)}` })
        : generateKeyPairSync("rsa", { modulusLength: Number(kind.slice(4)) });
  // "traditional": PKCS#1 for RSA, SEC1 for EC, what `openssl genrsa` and `ecparam` write.
  const type = format === "traditional" ? (kind.startsWith("ec") ? "sec1" : "pkcs1") : "pkcs8";
  return pair.privateKey.export({ type, format: "pem" }).toString();
}

function keyFile(pem: string): string {
  const file = join(tempDir(), "key.pem");
  writeFileSync(file, pem);
  return file;
}

async function mint(words: string[], nowMs = NOW_MS): Promise<{ code: number; out: string }> {
  const ctx = captureContext();
  const code = await runToken(await argsOf(tokenCommand, words), ctx, { clock: () => nowMs });
  return { code, out: ctx.out() };
}

function publicKeyOf(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** The embedded server's verdict on `token` under the public half of `pem`, at `nowMs`. */
function verify(token: string, pem: string, nowMs = NOW_MS) {
  const key = publicKeyOf(pem);
  const schemes = signatureSchemes(key);
  if (schemes === undefined) throw new Error("test key not admitted");
  return verifyJwt(token, key, schemes, nowMs);
}

function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

describe("modulate token mints what the embedded server verifies", () => {
  it.each([
    ["ed25519", "EdDSA"],
    ["ec-p256", "ES256"],
    ["ec-p384", "ES384"],
    ["rsa-2048", "RS256"],
  ] as const)("signs with a %s key as %s, one token on one line", async (kind, alg) => {
    const pem = privateKeyPem(kind);
    const { code, out } = await mint(["--key", keyFile(pem), "--prefix", "t1-", "--ttl", "2d"]);
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = out.trim();
    expect(headerOf(token)).toEqual({ alg, typ: "JWT" });
    const verdict = verify(token, pem);
    expect(verdict).toEqual({
      claims: { prefix: "t1-", iat: NOW_MS / 1000, exp: NOW_MS / 1000 + 2 * DAY_S },
    });
  });

  it("reads RSA and EC keys in their traditional PEM forms too (openssl genrsa, ecparam)", async () => {
    for (const kind of ["rsa-2048", "ec-p256"] as const) {
      const pem = privateKeyPem(kind, "traditional");
      const { out } = await mint(["--key", keyFile(pem), "--admin"]);
      expect(verify(out.trim(), pem)).toMatchObject({ claims: { role: "admin" } });
    }
  });

  it("lasts 30 days unless told, and expires at its exp for the server", async () => {
    const pem = privateKeyPem("ed25519");
    const token = (await mint(["--key", keyFile(pem), "--admin"])).out.trim();
    const exp = NOW_MS / 1000 + 30 * DAY_S;
    expect(verify(token, pem)).toEqual({ claims: { role: "admin", iat: NOW_MS / 1000, exp } });
    expect(verify(token, pem, exp * 1000)).toMatchObject({ ok: false, status: 401 });
  });

  it("gives an admin token the role that lets the embedded server's searches through", async () => {
    const pem = privateKeyPem("ed25519");
    const admin = (await mint(["--key", keyFile(pem), "--admin"])).out.trim();
    const tenant = (await mint(["--key", keyFile(pem), "--prefix", "t1-"])).out.trim();
    const auth = createAuthenticator(
      { kind: "jwt", publicKeyPem: publicKeyOf(pem).export({ type: "spki", format: "pem" }) + "" },
      () => NOW_MS,
    );
    const search = (token: string) =>
      auth.checkRequest({
        kind: "promise.search",
        head: { auth: token },
        data: { state: "pending", tags: {} },
      });
    const create = (token: string, id: string) =>
      auth.checkRequest({
        kind: "promise.create",
        head: { auth: token },
        data: { id, timeoutAt: NOW_MS + 60_000, param: {}, tags: {} },
      });
    expect(search(admin)).toEqual({ ok: true });
    expect(search(tenant)).toMatchObject({ ok: false, status: 403 });
    expect(create(tenant, "t1-job")).toEqual({ ok: true });
    expect(create(tenant, "t2-job")).toMatchObject({ ok: false, status: 403 });
  });

  it("carries --iss, and --aud as a list, as the Resonate server parses them", async () => {
    const pem = privateKeyPem("ec-p256");
    const words = ["--key", keyFile(pem), "--prefix", "a", "--iss", "ops", "--aud", "resonate"];
    const token = (await mint(words)).out.trim();
    expect(verify(token, pem)).toMatchObject({ claims: { iss: "ops", aud: ["resonate"] } });
  });

  it("prints the public half of --key, which the server then takes", async () => {
    const pem = privateKeyPem("ed25519");
    const { code, out } = await mint(["--key", keyFile(pem), "--public-key"]);
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    expect(createPublicKey(out).equals(publicKeyOf(pem))).toBe(true);
  });
});

describe("modulate token refuses, in one line with exit 2", () => {
  async function refusal(words: string[]): Promise<string> {
    const run = mint(words);
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toMatchObject({ exitCode: ExitCode.usage });
    const error = await run.catch((e: unknown) => e as UserError);
    return error instanceof UserError ? error.message : "";
  }

  it("a token for nobody in particular: neither --prefix nor --admin", async () => {
    const key = keyFile(privateKeyPem("ed25519"));
    expect(await refusal(["--key", key])).toMatch(/--prefix P for a tenant.*--admin/);
    expect(await refusal(["--key", key, "--admin", "--prefix", "t1-"])).toMatch(/pick one/);
  });

  it("a prefix holding '.' or ':', an empty one, and one that starts no job id", async () => {
    const key = keyFile(privateKeyPem("ed25519"));
    expect(await refusal(["--key", key, "--prefix", "t1."])).toMatch(/holds '\.'/);
    expect(await refusal(["--key", key, "--prefix", "t1:"])).toMatch(/holds ':'/);
    expect(await refusal(["--key", key, "--prefix", ""])).toMatch(/--admin/);
    expect(await refusal(["--key", key, "--prefix", "t 1"])).toMatch(/not the start of a job id/);
    expect(prefixProblem("team_a-")).toBeUndefined();
  });

  it("a ttl that does not parse, or is under a second", async () => {
    const key = keyFile(privateKeyPem("ed25519"));
    const words = ["--key", key, "--admin", "--ttl"];
    expect(await refusal([...words, "forever"])).toMatch(/--ttl "forever" is not a duration/);
    expect(await refusal([...words, "0"])).toMatch(/shorter than 1s/);
  });

  it("a public key, a certificate-like text, an encrypted key, and no file at all", async () => {
    const pem = privateKeyPem("ed25519");
    const pub = keyFile(publicKeyOf(pem).export({ type: "spki", format: "pem" }).toString());
    expect(await refusal(["--key", pub, "--admin"])).toMatch(/holds a public key, not a private/);
    const { privateKey } = generateKeyPairSync("ed25519");
    const encrypted = privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "secret",
    });
    expect(await refusal(["--key", keyFile(encrypted.toString()), "--admin"])).toMatch(
      /encrypted with a passphrase/,
    );
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const traditional = rsa.export({
      type: "pkcs1",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "secret",
    });
    expect(await refusal(["--key", keyFile(traditional.toString()), "--admin"])).toMatch(
      /encrypted with a passphrase/,
    );
    expect(await refusal(["--key", keyFile("hello\n"), "--admin"])).toMatch(/not a PEM private/);
    expect(await refusal(["--key", join(tempDir(), "absent.pem"), "--admin"])).toMatch(/ENOENT/);
    expect(await refusal(["--admin"])).toMatch(/--key is missing/);
  });

  it("keys that one of the servers would not verify: EC P-521, RSA under 2048 bits", async () => {
    const p521 = keyFile(privateKeyPem("ec-p521"));
    expect(await refusal(["--key", p521, "--admin"])).toMatch(/EC P-256 or P-384/);
    const rsa1024 = keyFile(privateKeyPem("rsa-1024"));
    expect(await refusal(["--key", rsa1024, "--admin"])).toMatch(/at least 2048 bits/);
  });

  it("--public-key mixed with a token's options", async () => {
    const key = keyFile(privateKeyPem("ed25519"));
    expect(await refusal(["--key", key, "--public-key", "--admin"])).toMatch(/leave out --admin/);
  });

  it("through the command line: exit 2 and a single line on stderr, nothing on stdout", async () => {
    const ctx = captureContext();
    const code = await main(["token", "--key", keyFile(privateKeyPem("ed25519"))], ctx);
    expect(code).toBe(ExitCode.usage);
    expect(ctx.out()).toBe("");
    expect(ctx.err().trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("token claims", () => {
  it("round exp down to whole seconds, never past what was asked", () => {
    const claims = tokenClaims({
      scope: { kind: "prefix", prefix: "t1-" },
      nowMs: 1_500,
      ttlMs: 1_999,
    });
    expect(claims).toEqual({ prefix: "t1-", iat: 1, exp: 3 });
  });
});
