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
