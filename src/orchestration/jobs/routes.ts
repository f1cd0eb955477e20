// The router's routes file: machine types to groups, e.g. `a100 -> gpu-a100`. A name with
// no route is its own group. Parsing is pure; the mode reads the file.
import { groupNameProblem } from "./names.ts";

export type Routes = ReadonlyMap<string, string>;

/**
 * Accepts a JSON object (`{"a100": "gpu-a100"}`) or lines of `from -> to` (also `from: to`
 * or `from = to`), with `#` comments. Throws an Error naming the line that is wrong.
 */
export function parseRoutes(text: string, source: string): Routes {
  const routes = new Map<string, string>();
  const add = (from: string, to: string, where: string): void => {
    for (const name of [from, to]) {
      const problem = groupNameProblem(name);
      if (problem) throw new Error(`${where}: ${problem}`);
    }
    routes.set(from, to);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(`${source}: not valid JSON (${why})`, { cause: error });
    }
    for (const [from, to] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof to !== "string")
        throw new Error(`${source}: the route for "${from}" must be a group name string`);
      add(from, to, source);
    }
    return routes;
  }
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const match = /^(\S+)\s*(?:->|:|=)\s*(\S+)$/.exec(line);
    if (!match)
      throw new Error(`${source}:${index + 1}: expected "machine-type -> group", found "${line}"`);
    add(match[1] ?? "", match[2] ?? "", `${source}:${index + 1}`);
  });
  return routes;
}

export function resolveGroup(routes: Routes, requested: string): string {
  return routes.get(requested) ?? requested;
}
