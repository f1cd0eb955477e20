// A command line read without yargs, for the plain shapes of one command: loading and setting up
// yargs and every command's schema costs `modulate submit` more of its start than the rest of its
// work before the first request (issue 17). Driven by the command's own yargs schema, so there
// is still one definition of its options; any word it is not sure to read exactly as yargs does
// (--help, a short flag, an unknown or repeated option, --no-X, a value that looks like an
// option, a number option's value that is not a plain number) makes it give up, and the caller
// hands the line to yargs, which then decides, errors included. test/modes/quick-args.test.ts
// holds it to yargs' answers.
import type { Options } from "yargs";
import type { ModeArgs, ModeCommand } from "./command.ts";

/** kebab-case to camelCase, as yargs adds beside each dashed option. */
function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** A plain decimal number, as a number option takes it; anything else is left to yargs. */
const PLAIN_NUMBER = /^\d+(\.\d+)?$/;

type Parsed = Record<string, unknown>;

/** Sets one option's value (both spellings, as yargs does); false where it cannot be sure. */
function setOption(parsed: Parsed, given: Set<string>, name: string, value: unknown): boolean {
  if (given.has(name)) return false;
  given.add(name);
  parsed[name] = value;
  parsed[camel(name)] = value;
  return true;
}

/**
 * The arguments yargs would hand `mode`'s handler for `words` (the command's name first), or
 * undefined where the line is not one of the plain shapes read here: yargs must read it.
 * Plain shapes: `--name value` and `--name=value` of declared options, each at most once
 * (array options may repeat), bare booleans, positionals (none for a command that declares
 * none, as ls), and whatever follows `--`, passed through word for word (as the root parser is
 * set to do).
 */
export function quickArgs<O extends Record<string, Options>, P extends string>(
  mode: ModeCommand<O, P>,
  words: readonly string[],
): (ModeArgs<O> & Record<P, string>) | undefined {
  const positional = mode.positional;
  if (words[0] !== mode.command) return undefined;
  const schema = mode.options as Readonly<Record<string, Options>>;
  const parsed: Parsed = { _: [mode.command] };
  const given = new Set<string>();
  const positionals: string[] = [];
  const end = words.indexOf("--");
  // Words after `--` mean a script's arguments: left to yargs where there is no script.
  if (positional === undefined && end >= 0) return undefined;
  const own = end < 0 ? words.slice(1) : words.slice(1, end);
  for (let i = 0; i < own.length; i += 1) {
    const word = own[i] ?? "";
    if (!word.startsWith("-")) {
      // A command without positionals (ls) takes no word that is not an option: yargs says so.
      if (positional === undefined) return undefined;
      // yargs reads a number-like word after the first positional as a number ("1.50": 1.5).
      if (word === "" || (positionals.length > 0 && !Number.isNaN(Number(word)))) return undefined;
      positionals.push(word);
      continue;
    }
    if (!word.startsWith("--") || word === "--") return undefined;
    const equals = word.indexOf("=");
    const name = word.slice(2, equals < 0 ? undefined : equals);
    const option = Object.hasOwn(schema, name) ? schema[name] : undefined;
    if (option === undefined || option.alias !== undefined) return undefined;
    const next = own[i + 1];
    if (option.type === "boolean") {
      // `--flag=false`, `--flag false`: yargs reads them its own way.
      if (equals >= 0 || next === "true" || next === "false") return undefined;
      if (!setOption(parsed, given, name, true)) return undefined;
      continue;
    }
    let value: string;
    if (equals >= 0) {
      value = word.slice(equals + 1);
    } else {
      if (next === undefined || next.startsWith("-")) return undefined;
      value = next;
      i += 1;
    }
    if (option.array === true) {
      // yargs takes the words after an array's value as more values: left to it.
      const after = own[i + 1];
      if (option.type !== "string" || (after !== undefined && !after.startsWith("-")))
        return undefined;
      const list = (parsed[name] as string[] | undefined) ?? [];
      given.delete(name);
      setOption(parsed, given, name, [...list, value]);
      continue;
    }
    if (option.type === "number") {
      if (!PLAIN_NUMBER.test(value)) return undefined;
      if (!setOption(parsed, given, name, Number(value))) return undefined;
    } else if (option.type === "string") {
      if (!setOption(parsed, given, name, value)) return undefined;
    } else {
      return undefined;
    }
  }
  const [first, ...more] = positionals;
  if (
    positional !== undefined &&
    (first === undefined || (more.length > 0 && positional.more === undefined))
  )
    return undefined;
  for (const [name, option] of Object.entries(schema)) {
    if (!Object.hasOwn(parsed, name) && option.default !== undefined)
      setOption(parsed, given, name, option.default);
  }
  if (positional !== undefined) {
    parsed[positional.name] = first;
    if (positional.more !== undefined) parsed[positional.more] = more;
  }
  if (end >= 0 && end + 1 < words.length) parsed["--"] = words.slice(end + 1);
  parsed["$0"] = "modulate";
  // What yargs hands over, field for field (test/modes/quick-args.test.ts compares them); the
  // type is the one cli.ts's handler sees, which TypeScript cannot follow through a loop.
  return parsed as ModeArgs<O> & Record<P, string>;
}
