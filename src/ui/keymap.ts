// The dashboard's one keymap: commands, their bindings, and the matcher that maps a key press
// to a command. Components ask the matcher; none of them reads raw keys.
import type { Key } from "ink";

export const Command = {
  Quit: "quit",
  NextGroup: "next-group",
  PreviousGroup: "previous-group",
  Refresh: "refresh",
} as const;
export type Command = (typeof Command)[keyof typeof Command];

interface Binding {
  /** A printable key, as Ink reports it in `input`. */
  input?: string;
  /** A named key, as Ink reports it in `key`. */
  key?: "leftArrow" | "rightArrow" | "tab" | "escape";
  ctrl?: boolean;
}

export const BINDINGS: Readonly<Record<Command, readonly Binding[]>> = {
  [Command.Quit]: [{ input: "q" }, { input: "c", ctrl: true }, { key: "escape" }],
  [Command.NextGroup]: [{ key: "rightArrow" }, { key: "tab" }, { input: "l" }],
  [Command.PreviousGroup]: [{ key: "leftArrow" }, { input: "h" }],
  [Command.Refresh]: [{ input: "r" }],
};

/** The help line, from the same table the matcher reads. */
export const KEY_HELP = "←/→ group  r refresh  q quit";

export function matchCommand(input: string, key: Key): Command | undefined {
  for (const [command, bindings] of Object.entries(BINDINGS) as [Command, readonly Binding[]][]) {
    for (const binding of bindings) {
      if (binding.ctrl !== undefined && binding.ctrl !== key.ctrl) continue;
      if (binding.key !== undefined && key[binding.key]) return command;
      if (binding.input !== undefined && input === binding.input) return command;
    }
  }
  return undefined;
}
