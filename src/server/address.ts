// Poll addresses, as the SDK writes them: `poll://any@GROUP[/PID]` goes to one member of a
// group (PID preferred if connected), `poll://uni@GROUP/PID` to that one process only.

export interface PollAddress {
  cast: "any" | "uni";
  group: string;
  pid?: string;
}

const POLL = /^poll:\/\/(any|uni)@([^/]+)(?:\/(.+))?$/;

export function parsePollAddress(address: string): PollAddress | undefined {
  const match = POLL.exec(address);
  if (!match) return undefined;
  const [, cast, group, pid] = match;
  if ((cast !== "any" && cast !== "uni") || group === undefined) return undefined;
  if (cast === "uni" && pid === undefined) return undefined;
  return pid === undefined ? { cast, group } : { cast, group, pid };
}

/**
 * Whether the real Resonate server would route to `address` (transport/mod.rs:191-238 at
 * c8d7c7b): http(s) webhooks, `poll://uni|any@group[/id]`, `gcps://project/topic`, `bash://`.
 * It refuses any other target or listener address with 400, so this server does too.
 */
export function isRoutableAddress(address: string): boolean {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return false;
  }
  switch (url.protocol) {
    case "http:":
    case "https:":
    case "bash:":
      return true;
    case "poll:":
      return (url.username === "uni" || url.username === "any") && url.hostname !== "";
    case "gcps:":
      return url.hostname !== "" && url.pathname.length > 1;
    default:
      return false;
  }
}
