// The pre-parse measure of a body's structure: strings are skipped whatever they hold, depth
// and element counts are exact at their limits.
import { describe, expect, it } from "vitest";
import { checkJsonShape } from "../../src/server/json-shape.ts";

const limits = { maxDepth: 3, maxElements: 10 };
const shape = (text: string, l = limits) => checkJsonShape(Buffer.from(text, "utf8"), l);

describe("checkJsonShape", () => {
  it.each([
    ["nesting at the limit", "[[[1]]]"],
    ["brackets inside a string", JSON.stringify(["[[[[[[{{{{,,,,,,,,,,,:::::"])],
    ["an escaped quote before brackets", JSON.stringify(['a"[[[[[[[', "b"])],
    ["an escaped backslash before the closing quote", '["a\\\\", 1]'],
    ["an unterminated string (JSON.parse will refuse it)", '["[[[[[['],
    ["text that is no JSON at all", "not json"],
  ])("lets %s through", (_name, text) => {
    expect(shape(text)).toEqual({ ok: true });
  });

  it("refuses nesting one level past the limit, naming it", () => {
    const refused = shape("[[[[1]]]]");
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/deeper than 3 levels/);
  });

  it("sees a bracket after a string that ends in an escaped backslash", () => {
    expect(shape('["\\\\",[[[1]]]]').ok).toBe(false);
  });

  it("counts commas, colons and openings outside strings up to the limit", () => {
    expect(shape("[1,2,3,4,5,6,7,8,9]")).toEqual({ ok: true }); // 1 + 8
    const refused = shape('[{"a":1},{"b":2},{"c":3},4,5]'); // 4 openings, 3 colons, 4 commas
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/more than 10 JSON elements/);
  });
});
