// Ids' random bytes, read from the kernel without node:crypto (src/common/random.ts).
import { describe, expect, it } from "vitest";
import { randomBytes, randomUUID } from "../../src/common/random.ts";

describe("random bytes for ids", () => {
  it("gives as many bytes as asked, from the pool and past it", () => {
    for (const size of [1, 3, 4, 16, 511, 512, 513, 4096])
      expect(randomBytes(size)).toHaveLength(size);
  });

  it("never hands the same bytes out twice", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i += 1) seen.add(randomBytes(8).toString("hex"));
    expect(seen.size).toBe(2_000);
  });

  it("makes version 4 UUIDs, each different", () => {
    const ids = Array.from({ length: 500 }, () => randomUUID());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
