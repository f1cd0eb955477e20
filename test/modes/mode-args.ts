// A mode's arguments as the real parser makes them, the schema's defaults included, so a test
// calls runX directly with what the command line would have handed it.
import yargs, { type Options } from "yargs";
import type { ModeArgs, ModeCommand } from "../../src/modes/command.ts";

export async function argsOf<O extends Record<string, Options>, P extends string = never>(
  mode: ModeCommand<O, P>,
  words: readonly string[],
  positional?: Record<P, string>,
): Promise<ModeArgs<O> & Record<P, string>> {
  const parsed = await yargs([...words])
    .options(mode.options)
    .parserConfiguration({ "populate--": true })
    .strict()
    .fail((message, error) => {
      throw error ?? new Error(message);
    })
    .parseAsync();
  // The same type that cli.ts hands a handler; TypeScript cannot see it through the generic O.
  return { ...parsed, ...positional } as ModeArgs<O> & Record<P, string>;
}
