// Who may read `GET /metrics`: the figures are the whole cluster's, so a shared token must
// match and a JWT must carry role 'admin'; a tenant's prefix does not reach them.
import { describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/server/auth.ts";
import { ed25519KeyPair, signJwt } from "./jwt-helper.ts";

const NOW_MS = Date.parse("2026-11-24T09:00:00Z");
const pair = ed25519KeyPair();
const jwt = createAuthenticator({ kind: "jwt", publicKeyPem: pair.publicKeyPem }, () => NOW_MS);
const bearer = (claims: Record<string, unknown>): string =>
  `Bearer ${signJwt({ alg: "EdDSA", typ: "JWT" }, { exp: NOW_MS / 1000 + 3600, ...claims }, pair.privateKey)}`;

describe("GET /metrics authorization", () => {
  it("takes an admin JWT and refuses a tenant's with 403", () => {
    expect(jwt.checkMetrics(bearer({ role: "admin" }))).toEqual({ ok: true });
    const tenant = jwt.checkMetrics(bearer({ prefix: "t1-" }));
    expect(tenant).toMatchObject({ ok: false, status: 403 });
    expect(tenant.ok ? "" : tenant.reason).toMatch(/role 'admin'.*--metrics-public/);
  });

  it("refuses a missing or expired token with 401", () => {
    expect(jwt.checkMetrics(undefined)).toMatchObject({ ok: false, status: 401 });
    const expired = `Bearer ${signJwt({ alg: "EdDSA" }, { role: "admin", exp: NOW_MS / 1000 - 60 }, pair.privateKey)}`;
    expect(jwt.checkMetrics(expired)).toMatchObject({ ok: false, status: 401 });
  });

  it("checks a shared token as poll streams do, and lets anyone in without auth", () => {
    const shared = createAuthenticator({ kind: "token", token: "s3cret" }, () => NOW_MS);
    expect(shared.checkMetrics("Bearer s3cret")).toEqual({ ok: true });
    expect(shared.checkMetrics("Bearer nope")).toMatchObject({ ok: false, status: 401 });
    const none = createAuthenticator({ kind: "none" }, () => NOW_MS);
    expect(none.checkMetrics(undefined)).toEqual({ ok: true });
  });
});
