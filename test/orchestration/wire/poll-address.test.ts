// Poll addresses are built in one place, in the shape the SDK writes and servers read.
import { describe, expect, it } from "vitest";
import { anycastAddress, unicastAddress } from "../../../src/orchestration/wire/poll-address.ts";
import { parsePollAddress } from "../../../src/server/address.ts";

describe("poll addresses", () => {
  it("addresses any member of a group, or one preferred member", () => {
    expect(anycastAddress("entry")).toBe("poll://any@entry");
    expect(anycastAddress("gpu", "worker-a-1")).toBe("poll://any@gpu/worker-a-1");
  });

  it("addresses one process only", () => {
    expect(unicastAddress("modulate-client", "client-a-1")).toBe(
      "poll://uni@modulate-client/client-a-1",
    );
  });

  it("reads back, on modulate's own server, as the group and process it was built for", () => {
    expect(parsePollAddress(anycastAddress("entry"))).toEqual({ cast: "any", group: "entry" });
    expect(parsePollAddress(anycastAddress("gpu", "w1"))).toEqual({
      cast: "any",
      group: "gpu",
      pid: "w1",
    });
    expect(parsePollAddress(unicastAddress("c", "p1"))).toEqual({
      cast: "uni",
      group: "c",
      pid: "p1",
    });
  });
});
