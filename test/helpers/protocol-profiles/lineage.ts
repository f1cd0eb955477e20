// How a generation of the Resonate server reads an id's lineage: where its origin ends and
// what it means for an id to extend an ancestor (its declared origin, branch or parent).
//
// Citations: `c8d7c7b` is resonatehq/resonate at c8d7c7ba (main, "protocol updates — delay,
// origin checks", #1119); `sdk` is node_modules/@resonatehq/sdk/dist/src at 0.11.5, the only
// source of the `:` generation (its server is not in the mirror: no ref there has
// `colon_in_origin`).

export interface Lineage {
  /** "dot" (c8d7c7b) or "colon" (the server SDK 0.11.5 speaks to). */
  readonly name: "dot" | "colon";
  /** The character an origin tag must not hold. */
  readonly reserved: string;
  /** The origin of an id: its lineage root. */
  origin(id: string): string;
  /** True when `id` is `ancestor` or lies below it. */
  extendsId(id: string, ancestor: string): boolean;
}

/**
 * c8d7c7b: `origin()` is everything before the first '.' (src/types.rs:356-358), and an id
 * extends a tag when it equals it or starts with `{tag}.` (types.rs:294, 300, 306).
 */
export const DOT_LINEAGE: Lineage = {
  name: "dot",
  reserved: ".",
  origin: (id) => {
    const at = id.indexOf(".");
    return at === -1 ? id : id.slice(0, at);
  },
  extendsId: (id, ancestor) => id === ancestor || id.startsWith(`${ancestor}.`),
};

/**
 * SDK 0.11.5: the origin is everything before the first ':' (`originOf`, sdk ids.js:52-55,
 * "Mirrors the server's own `origin()`"); below it, lineage segments are '.'-separated, so a
 * bare root is extended by `{root}:` and an id that already has lineage by `{id}.` (`joinId`,
 * ids.js:42-45, "exactly the separator rule the server's resonate:branch / resonate:parent
 * validation applies").
 */
export const COLON_LINEAGE: Lineage = {
  name: "colon",
  reserved: ":",
  origin: (id) => {
    const at = id.indexOf(":");
    return at === -1 ? id : id.slice(0, at);
  },
  extendsId: (id, ancestor) =>
    id === ancestor || id.startsWith(`${ancestor}${ancestor.includes(":") ? "." : ":"}`),
};
