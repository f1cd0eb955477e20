import type { ArgumentsCamelCase, InferredOptionTypes, Options } from "yargs";

/** What a command may touch of the outside world; tests hand in their own. */
export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** Both ends are a terminal: `modulate` alone then opens the dashboard. */
  readonly isInteractive?: boolean;
  /** Aborted on SIGINT/SIGTERM: long-running modes stop cleanly when it fires. */
  readonly signal: AbortSignal;
}

/** The parsed arguments of a command with these options, exactly as yargs hands them over. */
// `Omit<{}, keyof O>` mirrors the type yargs builds in `.options()`, so handlers need no cast.
export type ModeArgs<O extends Record<string, Options>> = ArgumentsCamelCase<
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  Omit<{}, keyof O> & InferredOptionTypes<O>
>;

/**
 * One command of the CLI: its yargs schema beside a handler that returns an exit code.
 * The handler's argument type is inferred from `options`, so no handler casts argv.
 */
export interface ModeCommand<O extends Record<string, Options>, P extends string = never> {
  /** The command's name; a positional, if any, is added as `<name>`. */
  readonly command: string;
  readonly describe: string;
  /** One required string positional argument, e.g. the script of `submit` or the id of `get`. */
  readonly positional?: {
    readonly name: P;
    readonly describe: string;
    /** The name under which further positionals come, if the command takes more (`[more..]`). */
    readonly more?: string;
  };
  readonly options: O;
  readonly epilogue?: string;
  /**
   * Options the command does not declare are let through to `run` instead of refused:
   * install-service takes the flags of the mode it installs and checks them itself.
   */
  readonly passUnknownOptions?: boolean;
  run(args: ModeArgs<O> & Record<P, string>, ctx: CliContext): Promise<number>;
}

/** Keeps the literal types of `options` so that `run` sees precise argument types. */
export function defineCommand<
  const O extends Record<string, Options>,
  const P extends string = never,
>(command: ModeCommand<O, P>): ModeCommand<O, P> {
  return command;
}

/** The words after `--` on the command line, passed through untouched. */
export function passThroughArgs(args: { readonly [key: string]: unknown }): string[] {
  const rest = args["--"];
  return Array.isArray(rest) ? rest.map(String) : [];
}
