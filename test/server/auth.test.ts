import { constants, createHmac, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAuthenticator, loadAuthConfig } from "../../src/server/auth.ts";
import type { AuthConfig, AuthDecision, AuthEnvelope } from "../../src/server/auth.ts";
import { UserError } from "../../src/common/errors.ts";
import type { TestKeyPair } from "./jwt-helper.ts";
import { base64url, ecKeyPair, ed25519KeyPair, rsaKeyPair, signJwt } from "./jwt-helper.ts";

const NOW_MS = Date.parse("2026-11-24T09:00:00Z");
const NOW_S = NOW_MS / 1000;
const IN_AN_HOUR_S = NOW_S + 3600;
const clock = () => NOW_MS;

const rsa = rsaKeyPair();
const p256 = ecKeyPair("P-256");
const p384 = ecKeyPair("P-384");
const ed25519 = ed25519KeyPair();

function jwtAuthenticator(pair: TestKeyPair) {
  return createAuthenticator({ kind: "jwt", publicKeyPem: pair.publicKeyPem }, clock);
}

function envelope(kind: string, data: unknown, auth?: string): AuthEnvelope {
  return { kind, head: auth === undefined ? {} : { auth }, data };
}

/** An Ed25519-signed token that expires in an hour, with `claims` added. */
function edToken(claims: Record<string, unknown>, pair: TestKeyPair = ed25519): string {
  return signJwt({ alg: "EdDSA", typ: "JWT" }, { exp: IN_AN_HOUR_S, ...claims }, pair.privateKey);
}

function check(token: string, kind = "promise.get", data: unknown = { id: "a/1" }): AuthDecision {
  return jwtAuthenticator(ed25519).checkRequest(envelope(kind, data, token));
}

/** A poll of group "g", pid "p": the shared-token and no-auth modes do not scope them. */
const poll = (
  auth: { checkPoll: (h: string | undefined, g: string, p: string) => AuthDecision },
  header: string | undefined,
) => auth.checkPoll(header, "g", "p");

const unauthorized = (reason: unknown = expect.any(String)) => ({ ok: false, status: 401, reason });
const forbidden = (reason: unknown = expect.any(String)) => ({ ok: false, status: 403, reason });

describe("loadAuthConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "modulate-auth-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const errorOf = (opts: Parameters<typeof loadAuthConfig>[0]): UserError => {
    try {
      loadAuthConfig(opts);
    } catch (error) {
      if (error instanceof UserError) return error;
      throw error;
    }
    throw new Error("loadAuthConfig did not throw");
  };

  it("turns auth off when neither a token nor a public key file is given", () => {
    expect(loadAuthConfig({})).toEqual({ kind: "none" });
  });

  it("keeps a shared token as given", () => {
    expect(loadAuthConfig({ token: "s3cret-Token" })).toEqual({
      kind: "token",
      token: "s3cret-Token",
    });
  });

  it("rejects an empty token and one that cannot travel in an HTTP header", () => {
    expect(errorOf({ token: "" }).message).toContain("--token is empty");
    expect(errorOf({ token: "two words" }).message).toContain("--token has spaces");
  });

  it.each([
    ["RSA", rsa],
    ["EC P-256", p256],
    ["EC P-384", p384],
    ["Ed25519", ed25519],
  ])("reads an %s public key file", (name, pair) => {
    const path = file(`${name.replace(/\W/g, "")}.pem`, pair.publicKeyPem);
    expect(loadAuthConfig({ publicKeyFile: path })).toEqual({
      kind: "jwt",
      publicKeyPem: pair.publicKeyPem,
    });
  });

  it("refuses a token and a public key file together", () => {
    const path = file("both.pem", ed25519.publicKeyPem);
    expect(errorOf({ token: "t", publicKeyFile: path }).message).toContain("pick one");
  });

  it("names a missing file and says what to pass", () => {
    const path = join(dir, "absent.pem");
    const { message } = errorOf({ publicKeyFile: path });
    expect(message).toBe(
      `cannot read public key file '${path}' (ENOENT): pass the path of a PEM public key`,
    );
  });

  it("names a file that holds no key", () => {
    const path = file("notes.txt", "just some notes\n");
    expect(errorOf({ publicKeyFile: path }).message).toBe(
      `'${path}' is not a PEM public key: pass a file that begins with -----BEGIN PUBLIC KEY-----`,
    );
  });

  it("refuses a private key so it does not end up on the server", () => {
    const pem = ed25519.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const { message } = errorOf({ publicKeyFile: file("private.pem", pem) });
    expect(message).toContain("holds a private key: give the server only the public half");
  });

  it.each([
    ["an EC P-521 key", ecKeyPair("P-521"), "holds a ec key secp521r1"],
    ["a 1024-bit RSA key", rsaKeyPair(1024), "holds a rsa key 1024 bits"],
  ])("refuses %s, naming the key types it takes", (_name, pair, found) => {
    const { message } = errorOf({ publicKeyFile: file("weak.pem", pair.publicKeyPem) });
    expect(message).toContain(found);
    expect(message).toContain("use RSA of at least 2048 bits, EC P-256 or P-384, or Ed25519");
    expect(message).not.toContain("\n");
  });
});

describe("no auth", () => {
  it("lets every request and poll through", () => {
    const auth = createAuthenticator({ kind: "none" }, clock);
    expect(auth.checkRequest(envelope("promise.search", {}))).toEqual({ ok: true });
    expect(poll(auth, undefined)).toEqual({ ok: true });
  });
});

describe("a shared token", () => {
  const auth = createAuthenticator({ kind: "token", token: "right-token" }, clock);

  it("accepts the right token in head.auth and in the poll header", () => {
    expect(auth.checkRequest(envelope("promise.get", { id: "x" }, "right-token"))).toEqual({
      ok: true,
    });
    expect(poll(auth, "Bearer right-token")).toEqual({ ok: true });
  });

  it("refuses a wrong token of any length with 401", () => {
    for (const wrong of ["wrong-token", "right-toke", "right-token-and-more", "x"]) {
      expect(auth.checkRequest(envelope("promise.get", { id: "x" }, wrong))).toEqual(
        unauthorized("token does not match the server's token"),
      );
      expect(poll(auth, `Bearer ${wrong}`)).toEqual(unauthorized());
    }
  });

  it("says how to pass a token when none is given", () => {
    const missing = unauthorized("missing token: pass --token or set RESONATE_TOKEN");
    expect(auth.checkRequest(envelope("promise.get", { id: "x" }))).toEqual(missing);
    expect(auth.checkRequest(envelope("promise.get", { id: "x" }, ""))).toEqual(missing);
    expect(poll(auth, undefined)).toEqual(missing);
  });
});

describe("the poll Authorization header", () => {
  const auth = createAuthenticator({ kind: "token", token: "tok" }, clock);

  it("accepts exactly 'Bearer <token>', as the Resonate server and its clients spell it", () => {
    expect(poll(auth, "Bearer tok")).toEqual({ ok: true });
  });

  it.each([
    "bearer tok",
    "BEARER tok",
    "Bearer  tok",
    "Bearer\ttok",
    "Bearer tok ",
    "Basic dG9rOg==",
    "Bearer",
    "Bearer ",
    "Bearer tok extra",
    "tok",
    "Bearertok",
  ])("refuses %j with 401", (header) => {
    expect(poll(auth, header)).toEqual(
      unauthorized("Authorization header must be exactly 'Bearer <token>': capital B, one space"),
    );
  });

  it("treats an empty header as a missing token", () => {
    expect(poll(auth, "")).toEqual(unauthorized(expect.stringContaining("missing token")));
  });
});

describe("JWTs", () => {
  it.each([
    ...["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"].map((alg) => [alg, rsa] as const),
    ["ES256", p256] as const,
    ["ES384", p384] as const,
    ["EdDSA", ed25519] as const,
  ])("lets an admin signed with %s do anything", (alg, pair) => {
    const token = signJwt({ alg }, { exp: IN_AN_HOUR_S, role: "admin" }, pair.privateKey);
    const auth = jwtAuthenticator(pair);
    expect(auth.checkRequest(envelope("promise.search", {}, token))).toEqual({ ok: true });
    expect(auth.checkRequest(envelope("promise.get", { id: "any/1" }, token))).toEqual({
      ok: true,
    });
  });

  it("denies a request whose id field is missing when the prefix is not empty", () => {
    expect(check(edToken({ prefix: "a/" }), "promise.get", {})).toEqual(forbidden());
    expect(check(edToken({ prefix: "a/" }), "promise.get", { id: 7 })).toEqual(forbidden());
  });

  it("requires every heartbeat task id to start with the prefix", () => {
    const token = edToken({ prefix: "a/" });
    const inside = { tasks: [{ id: "a/1" }, { id: "a/2" }] };
    expect(check(token, "task.heartbeat", inside)).toEqual({ ok: true });
    const mixed = { tasks: [{ id: "a/1" }, { id: "b/2" }] };
    expect(check(token, "task.heartbeat", mixed)).toEqual(
      forbidden("task.heartbeat task id 'b/2' is outside this token's prefix 'a/'"),
    );
    expect(check(token, "task.heartbeat", {})).toEqual(forbidden());
  });

  it("forbids searches and unknown kinds to a token with a non-empty prefix", () => {
    const token = edToken({ prefix: "a/" });
    for (const kind of ["promise.search", "task.search", "schedule.search", "frobnicate"]) {
      expect(check(token, kind, { id: "a/1" })).toEqual(
        forbidden(expect.stringContaining(`'${kind}' names no id`)),
      );
    }
  });

  it("lets an empty prefix reach every id and search", () => {
    const token = edToken({ prefix: "" });
    expect(check(token, "promise.search", {})).toEqual({ ok: true });
    expect(check(token, "promise.get", { id: "anything" })).toEqual({ ok: true });
  });

  it("forbids a non-admin token whose prefix is missing, null or not a string", () => {
    for (const claims of [{}, { prefix: null }, { prefix: 42 }, { role: "user" }]) {
      expect(check(edToken(claims))).toEqual(
        forbidden("token has neither role 'admin' nor a string 'prefix' claim"),
      );
    }
  });

  it("refuses an expired token, saying when it expired", () => {
    const exp = Date.parse("2026-11-24T08:00:00Z") / 1000;
    const token = signJwt({ alg: "EdDSA" }, { exp, role: "admin" }, ed25519.privateKey);
    expect(check(token)).toEqual(unauthorized("token expired at 2026-11-24T08:00:00Z"));
    const atNow = signJwt({ alg: "EdDSA" }, { exp: NOW_S, role: "admin" }, ed25519.privateKey);
    expect(check(atNow)).toEqual(unauthorized("token expired at 2026-11-24T09:00:00Z"));
  });

  it("refuses a token without a numeric exp", () => {
    for (const exp of [undefined, "2030-01-01", null]) {
      const token = signJwt({ alg: "EdDSA" }, { exp, role: "admin" }, ed25519.privateKey);
      expect(check(token)).toEqual(
        unauthorized("token has no numeric 'exp' claim: issue tokens that expire"),
      );
    }
  });

  it("refuses a token before its nbf and accepts it after", () => {
    expect(check(edToken({ role: "admin", nbf: NOW_S + 60 }))).toEqual(
      unauthorized("token is not valid before 2026-11-24T09:01:00Z"),
    );
    expect(check(edToken({ role: "admin", nbf: NOW_S - 60 }))).toEqual({ ok: true });
  });

  it("refuses a token signed by another key", () => {
    const stranger = ed25519KeyPair();
    expect(check(edToken({ role: "admin" }, stranger))).toEqual(
      unauthorized("token signature does not match the server's public key"),
    );
    const otherRsa = rsaKeyPair();
    const token = signJwt(
      { alg: "RS256" },
      { exp: IN_AN_HOUR_S, role: "admin" },
      otherRsa.privateKey,
    );
    expect(jwtAuthenticator(rsa).checkRequest(envelope("promise.search", {}, token))).toEqual(
      unauthorized(),
    );
  });

  it("refuses a PSS signature whose salt is not as long as the hash (RFC 7518 §3.5)", () => {
    const input = `${base64url(JSON.stringify({ alg: "PS256" }))}.${base64url(JSON.stringify({ exp: IN_AN_HOUR_S, role: "admin" }))}`;
    const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 };
    const signature = sign("sha256", Buffer.from(input), { key: rsa.privateKey, ...pss });
    const token = `${input}.${base64url(signature)}`;
    expect(jwtAuthenticator(rsa).checkRequest(envelope("promise.search", {}, token))).toEqual(
      unauthorized("token signature does not match the server's public key"),
    );
  });

  it("refuses a token whose claims were changed after signing", () => {
    const [header, , signature] = edToken({ prefix: "a/" }).split(".");
    const forged = base64url(JSON.stringify({ exp: IN_AN_HOUR_S, role: "admin" }));
    expect(check(`${header}.${forged}.${signature}`)).toEqual(
      unauthorized("token signature does not match the server's public key"),
    );
  });

  it("refuses an algorithm that does not fit the key", () => {
    const claims = { exp: IN_AN_HOUR_S, role: "admin" };
    // The classic confusion attack: HMAC keyed with the server's public key.
    const input = `${base64url(JSON.stringify({ alg: "HS256" }))}.${base64url(JSON.stringify(claims))}`;
    const mac = createHmac("sha256", p256.publicKeyPem).update(input).digest();
    const hs256 = `${input}.${base64url(mac)}`;
    const rs256OnEc = signJwt({ alg: "RS256" }, claims, p256.privateKey, "ES256");
    const es384OnP256 = signJwt({ alg: "ES384" }, claims, p256.privateKey, "ES256");
    const auth = jwtAuthenticator(p256);
    for (const token of [hs256, rs256OnEc, es384OnP256]) {
      expect(auth.checkRequest(envelope("promise.search", {}, token))).toEqual(
        unauthorized(expect.stringMatching(/^token algorithm '\w+' does not fit .*: use ES256$/)),
      );
    }
  });

  it("refuses unsigned tokens (alg none)", () => {
    const claims = base64url(JSON.stringify({ exp: IN_AN_HOUR_S, role: "admin" }));
    const header = base64url(JSON.stringify({ alg: "none" }));
    const reason = "unsigned tokens (alg 'none') are not accepted";
    expect(check(`${header}.${claims}.`)).toEqual(unauthorized(reason));
    expect(check(`${header}.${claims}.c2ln`)).toEqual(unauthorized(reason));
  });

  it("refuses a token with critical header extensions it does not understand", () => {
    const token = signJwt(
      { alg: "EdDSA", crit: ["b64"], b64: false },
      { exp: IN_AN_HOUR_S },
      ed25519.privateKey,
    );
    expect(check(token)).toEqual(unauthorized("token header has 'crit': none supported"));
  });

  it.each([
    ["one part", "abc"],
    ["two parts", "abc.def"],
    ["four parts", "a.b.c.d"],
    ["characters outside base64url", "ab+c.de/f.ghi"],
    ["a header that is not JSON", `${base64url("nope")}.${base64url("{}")}.c2ln`],
    ["a header without alg", `${base64url("{}")}.${base64url("{}")}.c2ln`],
    ["a header that is a JSON array", `${base64url("[]")}.${base64url("{}")}.c2ln`],
  ])("refuses a malformed token (%s) with 401", (_name, token) => {
    expect(check(token)).toEqual(unauthorized(expect.stringMatching(/^malformed token: /)));
  });

  it("refuses a validly signed payload that is not a JSON object", () => {
    const input = `${base64url(JSON.stringify({ alg: "EdDSA" }))}.${base64url("[1]")}`;
    const signature = signJwt({ alg: "EdDSA" }, {}, ed25519.privateKey).split(".")[2];
    expect(check(`${input}.${signature}`)).toEqual(unauthorized());
  });

  it("asks for a token when head.auth is missing", () => {
    expect(check("")).toEqual(unauthorized("missing token: pass --token or set RESONATE_TOKEN"));
  });

  it("keeps every reason on one line, even for ids with newlines", () => {
    const decision = check(edToken({ prefix: "a/" }), "promise.get", { id: "b/\n1" });
    expect(decision).toEqual(
      forbidden("promise.get id 'b/\\n1' is outside this token's prefix 'a/'"),
    );
  });

  it("lets a token poll a group and pid inside its prefix, and refuses bad tokens", () => {
    const auth = jwtAuthenticator(ed25519);
    const bearer = (claims: Record<string, unknown>) => `Bearer ${edToken(claims)}`;
    expect(auth.checkPoll(bearer({ prefix: "t1-" }), "t1-cpu", "t1-w1")).toEqual({ ok: true });
    expect(auth.checkPoll(bearer({ prefix: "" }), "cpu", "w1")).toEqual({ ok: true });
    expect(auth.checkPoll(bearer({ role: "admin" }), "cpu", "w1")).toEqual({ ok: true });
    const expired = signJwt({ alg: "EdDSA" }, { exp: NOW_S - 1 }, ed25519.privateKey);
    expect(poll(auth, `Bearer ${expired}`)).toEqual(unauthorized());
    expect(poll(auth, `Bearer ${edToken({}, ed25519KeyPair())}`)).toEqual(unauthorized());
    expect(poll(auth, undefined)).toEqual(unauthorized(expect.stringContaining("missing")));
  });

  it("refuses a poll of a group or pid outside the token's prefix", () => {
    const auth = jwtAuthenticator(ed25519);
    const t1 = `Bearer ${edToken({ prefix: "t1-", role: "user" })}`;
    expect(auth.checkPoll(t1, "cpu", "t1-w1")).toEqual(
      forbidden("/poll group 'cpu' is outside this token's prefix 't1-'"),
    );
    expect(auth.checkPoll(t1, "t2-cpu", "t1-w1")).toEqual(
      forbidden("/poll group 't2-cpu' is outside this token's prefix 't1-'"),
    );
    expect(auth.checkPoll(t1, "t1-cpu", "w1")).toEqual(
      forbidden("/poll pid 'w1' is outside this token's prefix 't1-'"),
    );
  });

  it("refuses a poll by a token with neither role 'admin' nor a prefix", () => {
    const auth = jwtAuthenticator(ed25519);
    expect(auth.checkPoll(`Bearer ${edToken({ role: "user" })}`, "g", "p")).toEqual(
      forbidden("token has neither role 'admin' nor a string 'prefix' claim"),
    );
  });

  it("refuses 'bearer' in lower case on /poll, even with a good token", () => {
    const auth = jwtAuthenticator(ed25519);
    const token = edToken({ role: "admin" });
    expect(auth.checkPoll(`Bearer ${token}`, "g", "p")).toEqual({ ok: true });
    expect(auth.checkPoll(`bearer ${token}`, "g", "p")).toEqual(
      unauthorized("Authorization header must be exactly 'Bearer <token>': capital B, one space"),
    );
  });

  it.each(["ADMIN", "Admin", "admin ", "administrator"])(
    "gives role %j no admin powers: roles are matched exactly",
    (role) => {
      const auth = jwtAuthenticator(ed25519);
      const withoutPrefix = edToken({ role });
      const reason: unknown = expect.stringContaining(
        "token has neither role 'admin' nor a string 'prefix'",
      );
      expect(check(withoutPrefix, "promise.search", {})).toEqual(forbidden(reason));
      expect(check(withoutPrefix, "promise.get", { id: "x" })).toEqual(forbidden(reason));
      expect(auth.checkPoll(`Bearer ${withoutPrefix}`, "g", "p")).toEqual(forbidden(reason));
      // With a prefix it is an ordinary tenant's token.
      const scoped = edToken({ role, prefix: "t1-" });
      expect(check(scoped, "promise.get", { id: "t1-x" })).toEqual({ ok: true });
      expect(check(scoped, "promise.get", { id: "t2-x" })).toEqual(forbidden());
    },
  );

  it("says when a role differs from 'admin' only in case", () => {
    expect(check(edToken({ role: "ADMIN" }))).toEqual(
      forbidden(
        "token has neither role 'admin' nor a string 'prefix' claim (role 'ADMIN' is not 'admin': roles are matched exactly)",
      ),
    );
  });

  it("refuses to build an authenticator around a key it cannot use", () => {
    const config: AuthConfig = { kind: "jwt", publicKeyPem: ecKeyPair("P-521").publicKeyPem };
    expect(() => createAuthenticator(config, clock)).toThrow(UserError);
  });
});
