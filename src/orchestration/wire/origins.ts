// How each generation of the Resonate server reads the origin of a promise id, the root of its
// lineage, a fact of the protocol (issue 14):
// - "dot", resonatehq/resonate at c8d7c7b: what comes before the first '.' (src/types.rs 356-358);
// - "colon", the server SDK 0.11.5 speaks to: what comes before the first ':' (the SDK's ids.js);
// - "none", v0.9.8 and modulate's embedded server: no lineage rules, every id its own origin.
// Pure.

/** Which lineage rules the server applies. */
export type Generation = "dot" | "colon" | "none";

export const GENERATIONS: readonly Generation[] = ["dot", "colon", "none"];

/** What a process says of each generation in its start-up line. */
export const GENERATION_NAMES: Readonly<Record<Generation, string>> = {
  dot: "a Resonate server with '.' lineage (c8d7c7b and later)",
  colon: "a Resonate server with ':' lineage (as SDK 0.11.5 speaks)",
  none: "a server without lineage rules (modulate's own, or Resonate v0.9.8)",
};

/** The character that ends an id's origin under a generation with lineage rules. */
export const ORIGIN_END: Readonly<Record<Exclude<Generation, "none">, "." | ":">> = {
  dot: ".",
  colon: ":",
};

/** The origin a server of `generation` reads from `id`. */
export function originOf(generation: Generation, id: string): string {
  if (generation === "none") return id;
  const at = id.indexOf(ORIGIN_END[generation]);
  return at === -1 ? id : id.slice(0, at);
}

/**
 * Splits a heartbeat's tasks into batches a server of any generation takes: the tasks of one
 * batch share their origin under every generation's reading, since the sender of a heartbeat
 * need not know which one reads it (c8d7c7b refuses a batch of mixed origins, types.rs 574-588).
 */
export function batchesByOrigin<T extends { id: string }>(tasks: readonly T[]): T[][] {
  const batches = new Map<string, T[]>();
  for (const task of tasks) {
    const key = `${originOf("dot", task.id)}\n${originOf("colon", task.id)}`;
    const batch = batches.get(key);
    if (batch) batch.push(task);
    else batches.set(key, [task]);
  }
  return [...batches.values()];
}
