// What a bearer token says of itself, read without checking it (the server checks it): the
// `prefix` claim of a JWT, which every id its holder names must start with. A process names
// the addresses it listens on and the ids it probes with inside it. Pure.

/** The token's `prefix` claim, or "" when it has none or is not a JWT (a shared secret). */
export function tokenPrefix(token: string | undefined): string {
  const payload = token?.split(".")[1];
  if (payload === undefined) return "";
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const prefix =
      typeof claims === "object" && claims !== null
        ? (claims as { prefix?: unknown }).prefix
        : undefined;
    return typeof prefix === "string" ? prefix : "";
  } catch {
    return "";
  }
}
