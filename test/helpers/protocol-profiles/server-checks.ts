// The real server's checks outside the validator structs, inline in server.rs: the protocol
// version, the address a target or listener names, and a search's page size. The same lines
// at v0.9.8 and c8d7c7b (server.rs is unchanged around them between the two).
// The real server's address rule (transport::parse_address, src/transport/mod.rs:191-238 at
// c8d7c7b) is the one modulate's server now applies too: one home for it.
import { isRoutableAddress } from "../../../src/server/address.ts";
import { PROTOCOL_VERSION, str, type Obj } from "./envelope.ts";
import type { Rule } from "./rules.ts";

/** head.version must be one the server speaks (server.rs:227-239; types.rs:135). */
export const protocolVersion: Rule = {
  code: "unsupported_version",
  cites: ["c8d7c7b server.rs:227-239", "v0.9.8 server.rs:227-239"],
  check: (head) => {
    const version = str(head, "version") ?? "";
    return version === PROTOCOL_VERSION
      ? undefined
      : `Unsupported protocol version '${version}', supported versions: ["${PROTOCOL_VERSION}"]`;
  },
};

/** Whether the real server routes to `address`: src/server/address.ts's rule. */
export const isValidAddress = isRoutableAddress;

/** A promise's `resonate:target`, checked after `validate()` (server.rs:584-597, 1113-1126). */
export const targetAddress: Rule = {
  code: "invalid_target_address",
  cites: [
    "c8d7c7b server.rs:583-597",
    "c8d7c7b server.rs:1112-1126",
    "c8d7c7b server.rs:1793-1806",
  ],
  check: (create) => {
    const target = (create["tags"] as Obj | undefined)?.["resonate:target"];
    return typeof target === "string" && !isValidAddress(target)
      ? "Invalid resonate:target address"
      : undefined;
  },
};

export const listenerAddress: Rule = {
  code: "invalid_listener_address",
  cites: ["c8d7c7b server.rs:882-893"],
  check: (d) => {
    const address = str(d, "address");
    return address !== undefined && !isValidAddress(address)
      ? "Invalid listener address"
      : undefined;
  },
};

/** promise.search, task.search, schedule.search: at most 1,000 a page (server.rs:965-972). */
export const searchLimit: Rule = {
  code: "limit_too_large",
  cites: [
    "c8d7c7b server.rs:965-972",
    "c8d7c7b server.rs:2217-2224",
    "c8d7c7b server.rs:2503-2510",
  ],
  check: (d) => {
    const limit = d["limit"];
    return typeof limit === "number" && limit > 1000
      ? "Invalid 'limit' — must be between 1 and 1000"
      : undefined;
  },
};
