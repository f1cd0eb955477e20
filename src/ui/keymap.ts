// The dashboard's one keymap: commands, their bindings, and the matcher that maps a key press
// to a command. The `?` overlay is generated from the same table, so help cannot drift from
// what the keys do. Components ask the matcher; none of them reads raw keys.
import type { Key } from "ink";

export const Command = {
  ForceQuit: "force-quit",
  Quit: "quit",
  Back: "back",
  Help: "help",
  Up: "up",
  Down: "down",
  PageUp: "page-up",
  PageDown: "page-down",
  Top: "top",
  Bottom: "bottom",
  Open: "open",
  CommandLine: "command-line",
  Filter: "filter",
  ViewGroups: "view-groups",
  ViewJobs: "view-jobs",
  ViewWorkers: "view-workers",
  ViewSweeps: "view-sweeps",
  ToggleFinished: "toggle-finished",
  NextState: "next-state",
  NextGroup: "next-group",
  Sort: "sort",
  Search: "search",
  Resubmit: "resubmit",
  CopyId: "copy-id",
  Mark: "mark",
  Cancel: "cancel",
  Follow: "follow",
  Refresh: "refresh",
  Submit: "submit",
  FormNext: "form-next",
  FormPrevious: "form-previous",
  FormLeft: "form-left",
  FormRight: "form-right",
  FormSubmit: "form-submit",
} as const;
export type Command = (typeof Command)[keyof typeof Command];

/**
 * Where a binding applies: everywhere, in a list view, in the jobs or the sweeps list, in a
 * job's detail, in the submit form.
 */
export type Scope = "global" | "list" | "jobs" | "sweeps" | "detail" | "form";
/**
 * Where the user is, for the matcher: `jobs` is the jobs list, `sweeps` the sweeps list, `list`
 * the other lists.
 */
export type Where = "jobs" | "sweeps" | "list" | "detail" | "form";

type NamedKey =
  | "upArrow"
  | "downArrow"
  | "leftArrow"
  | "rightArrow"
  | "pageUp"
  | "pageDown"
  | "home"
  | "end"
  | "return"
  | "escape"
  | "tab";

interface Binding {
  /** A printable key, as Ink reports it in `input`. */
  input?: string;
  /** A named key, as Ink reports it in `key`. */
  key?: NamedKey;
  ctrl?: boolean;
  shift?: boolean;
}

export interface KeymapEntry {
  command: Command;
  scope: Scope;
  bindings: readonly Binding[];
  /** The keys as the overlay shows them. */
  keys: string;
  description: string;
}

/** Matched top to bottom: the first entry in scope whose binding fits wins. */
export const KEYMAP: readonly KeymapEntry[] = [
  {
    command: Command.ForceQuit,
    scope: "global",
    bindings: [{ input: "c", ctrl: true }],
    keys: "Ctrl+C",
    description: "quit from anywhere",
  },
  {
    command: Command.Quit,
    scope: "list",
    bindings: [{ input: "q" }],
    keys: "q",
    description: "quit (from a list)",
  },
  {
    command: Command.Back,
    scope: "global",
    bindings: [{ key: "escape" }, { input: "q" }],
    keys: "Esc",
    description: "back one level (never quits)",
  },
  {
    command: Command.Help,
    scope: "global",
    bindings: [{ input: "?" }],
    keys: "?",
    description: "this help",
  },
  {
    command: Command.Up,
    scope: "global",
    bindings: [{ key: "upArrow" }, { input: "k" }],
    keys: "↑ k",
    description: "move up",
  },
  {
    command: Command.Down,
    scope: "global",
    bindings: [{ key: "downArrow" }, { input: "j" }],
    keys: "↓ j",
    description: "move down",
  },
  {
    command: Command.PageUp,
    scope: "global",
    bindings: [{ key: "pageUp" }, { input: "b", ctrl: true }],
    keys: "PgUp",
    description: "page up",
  },
  {
    command: Command.PageDown,
    scope: "global",
    bindings: [{ key: "pageDown" }, { input: "f", ctrl: true }],
    keys: "PgDn",
    description: "page down",
  },
  {
    command: Command.Top,
    scope: "global",
    bindings: [{ key: "home" }, { input: "g" }],
    keys: "g Home",
    description: "first row",
  },
  {
    command: Command.Bottom,
    scope: "global",
    bindings: [{ key: "end" }, { input: "G" }],
    keys: "G End",
    description: "last row",
  },
  {
    command: Command.Open,
    scope: "list",
    bindings: [{ key: "return" }],
    keys: "Enter",
    description: "open: a job's detail; a group's, a worker's or a sweep's jobs",
  },
  {
    command: Command.CommandLine,
    scope: "global",
    bindings: [{ input: ":" }],
    keys: ":",
    description: "command: jobs, workers, groups, sweeps, q",
  },
  {
    command: Command.Filter,
    scope: "list",
    bindings: [{ input: "/" }],
    keys: "/",
    description: "filter by text (id, script, worker)",
  },
  {
    command: Command.ViewGroups,
    scope: "list",
    bindings: [{ input: "1" }],
    keys: "1",
    description: "groups view",
  },
  {
    command: Command.ViewJobs,
    scope: "list",
    bindings: [{ input: "2" }],
    keys: "2",
    description: "jobs view",
  },
  {
    command: Command.ViewWorkers,
    scope: "list",
    bindings: [{ input: "3" }],
    keys: "3",
    description: "workers view",
  },
  {
    command: Command.ViewSweeps,
    scope: "list",
    bindings: [{ input: "4" }],
    keys: "4",
    description: "sweeps view: each sweep's progress bar",
  },
  {
    command: Command.ToggleFinished,
    scope: "jobs",
    bindings: [{ input: "a" }],
    keys: "a",
    description: "show or hide finished jobs",
  },
  {
    command: Command.ToggleFinished,
    scope: "sweeps",
    bindings: [{ input: "a" }],
    keys: "a",
    description: "show or hide finished sweeps",
  },
  {
    command: Command.NextState,
    scope: "jobs",
    bindings: [{ input: "t" }],
    keys: "t",
    description: "filter by state (cycles)",
  },
  {
    command: Command.NextGroup,
    scope: "jobs",
    bindings: [{ input: "p" }],
    keys: "p",
    description: "filter by group (cycles: every group, then each)",
  },
  {
    command: Command.Sort,
    scope: "jobs",
    bindings: [{ input: "o" }],
    keys: "o",
    description: "order: newest, oldest, state, group, script",
  },
  {
    command: Command.Mark,
    scope: "jobs",
    bindings: [{ input: " " }],
    keys: "Space",
    description: "mark a job (for cancel)",
  },
  {
    command: Command.Cancel,
    scope: "jobs",
    bindings: [{ input: "c" }],
    keys: "c",
    description: "cancel the marked jobs, or the selected one",
  },
  {
    command: Command.Resubmit,
    scope: "jobs",
    bindings: [{ input: "R" }],
    keys: "R",
    description: "resubmit the selected job as a new one",
  },
  {
    command: Command.CopyId,
    scope: "jobs",
    bindings: [{ input: "y" }],
    keys: "y",
    description: "copy the selected job's id (OSC 52)",
  },
  {
    command: Command.Resubmit,
    scope: "detail",
    bindings: [{ input: "R" }],
    keys: "R",
    description: "resubmit this job as a new one",
  },
  {
    command: Command.CopyId,
    scope: "detail",
    bindings: [{ input: "y" }],
    keys: "y",
    description: "copy this job's id (OSC 52)",
  },
  {
    command: Command.Cancel,
    scope: "detail",
    bindings: [{ input: "c" }],
    keys: "c",
    description: "cancel this job",
  },
  {
    command: Command.Search,
    scope: "detail",
    bindings: [{ input: "/" }],
    keys: "/",
    description: "search the output (only lines with the text)",
  },
  {
    command: Command.Follow,
    scope: "detail",
    bindings: [{ input: "f" }],
    keys: "f",
    description: "follow the output, or stop following",
  },
  {
    command: Command.Refresh,
    scope: "global",
    bindings: [{ input: "r" }],
    keys: "r",
    description: "refresh now",
  },
  {
    command: Command.Submit,
    scope: "list",
    bindings: [{ input: "s" }],
    keys: "s",
    description: "submit a job (a form)",
  },
  {
    command: Command.FormNext,
    scope: "form",
    bindings: [{ key: "tab", shift: false }, { key: "downArrow" }],
    keys: "Tab ↓",
    description: "next field; on Script, completes the path first",
  },
  {
    command: Command.FormPrevious,
    scope: "form",
    bindings: [{ key: "tab", shift: true }, { key: "upArrow" }],
    keys: "S-Tab ↑",
    description: "previous field",
  },
  {
    command: Command.FormLeft,
    scope: "form",
    bindings: [{ key: "leftArrow" }],
    keys: "←",
    description: "previous live group, or mode",
  },
  {
    command: Command.FormRight,
    scope: "form",
    bindings: [{ key: "rightArrow" }],
    keys: "→",
    description: "next live group, or mode",
  },
  {
    command: Command.FormSubmit,
    scope: "form",
    bindings: [{ key: "return" }],
    keys: "Enter",
    description: "submit, then open the job's detail",
  },
  {
    command: Command.Back,
    scope: "form",
    bindings: [{ key: "escape" }],
    keys: "Esc",
    description: "close the form",
  },
];

function inScope(scope: Scope, where: Where): boolean {
  // The form takes text: only its own keys are commands there.
  if (where === "form") return scope === "form";
  if (scope === "global") return true;
  if (scope === "list") return where === "list" || where === "jobs" || where === "sweeps";
  return scope === where;
}

/** The command a key press means where the user is (`jobs` is the jobs list). */
export function matchCommand(input: string, key: Partial<Key>, where: Where): Command | undefined {
  for (const entry of KEYMAP) {
    if (!inScope(entry.scope, where)) continue;
    for (const binding of entry.bindings) {
      if ((binding.ctrl ?? false) !== (key.ctrl ?? false)) continue;
      if (binding.shift !== undefined && binding.shift !== (key.shift ?? false)) continue;
      if (binding.key !== undefined && key[binding.key]) return entry.command;
      if (binding.input !== undefined && input === binding.input) return entry.command;
    }
  }
  return undefined;
}

/**
 * The key presses in one read from the terminal. Ink hands over ordinary text as one string
 * when keys arrive together (typed fast over a slow link, a paste, tmux send-keys): "jj\r" is
 * then two moves and an Enter, not one unknown key.
 */
export function keyPresses(input: string, key: Partial<Key>): [string, Partial<Key>][] {
  if (input.length <= 1 || key.ctrl || key.meta || key.escape) return [[input, key]];
  return [...input].map((c): [string, Partial<Key>] =>
    c === "\r" ? ["", { return: true }] : c === "\t" ? ["", { tab: true }] : [c, {}],
  );
}

const SCOPE_TITLE: Record<Scope, string> = {
  global: "Everywhere",
  list: "Lists",
  jobs: "Jobs list",
  sweeps: "Sweeps list",
  detail: "Job detail",
  form: "Submit form",
};

/** The overlay's sections, from the table the matcher reads. */
export function helpSections(): { title: string; rows: { keys: string; description: string }[] }[] {
  return (Object.keys(SCOPE_TITLE) as Scope[]).map((scope) => ({
    title: SCOPE_TITLE[scope],
    rows: KEYMAP.filter((e) => e.scope === scope).map(({ keys, description }) => ({
      keys,
      description,
    })),
  }));
}

/** The short hint of the status line, by where the user is. */
export function keyHint(where: Where): string {
  if (where === "form") return "Tab next/complete  ← → pick  Enter submit  Esc close";
  if (where === "detail") return "Esc back  f follow  / search  c cancel  ? help";
  if (where === "jobs")
    return "Enter open  s submit  c cancel  a finished  / filter  ? help  q quit";
  if (where === "sweeps") return "Enter its jobs  a finished  / filter  : command  ? help  q quit";
  return "Enter open  s submit  : command  / filter  ? help  q quit";
}
