// An open job: its record, and the lines of output read so far. Pure, like the rest of the
// dashboard's state.
import type { JobView } from "../orchestration/client/view.ts";
import type { OutputPart } from "../orchestration/output-chunk.ts";
import { Command } from "./keymap.ts";
import type { DashboardState } from "./state.ts";

/** The lines a detail shows: all, or those `search` finds. */
export function visibleLines(detail: DetailState): OutputLine[] {
  if (detail.search === "") return detail.lines;
  const text = detail.search.toLowerCase();
  return detail.lines.filter((line) => line.text.toLowerCase().includes(text));
}

/** The most lines of output a detail keeps: older ones scroll away. */
export const DETAIL_MAX_LINES = 5_000;

export interface OutputLine {
  stream: OutputPart[0];
  text: string;
}

export interface DetailState {
  id: string;
  view: JobView | undefined;
  error: string | undefined;
  lines: OutputLine[];
  /** The attempt whose output is being read. */
  attempt: number | undefined;
  /** Keep the newest line on screen; off, the user scrolls with the usual keys. */
  follow: boolean;
  /** Lines scrolled up from the bottom while not following. */
  scrollBack: number;
  /** `/` in the detail: only the lines holding this text are shown (case aside). */
  search: string;
}
export type DetailAction =
  | { type: "detail-loaded"; id: string; view: JobView }
  | { type: "detail-failed"; id: string; message: string }
  | { type: "output"; id: string; parts: readonly OutputPart[] }
  /** A follow starts over (after a failure): what it reads again replaces what was read. */
  | { type: "output-reset"; id: string }
  | { type: "attempt"; id: string; attempt: number; host: string };

export function openDetail(id: string): DetailState {
  return {
    id,
    view: undefined,
    error: undefined,
    lines: [],
    attempt: undefined,
    follow: true,
    scrollBack: 0,
    search: "",
  };
}

/** Output parts as lines: a part holds whole lines of one stream, each ending in "\n". */
function appendLines(lines: readonly OutputLine[], parts: readonly OutputPart[]): OutputLine[] {
  const added: OutputLine[] = [];
  for (const [stream, text] of parts) {
    const pieces = text.split("\n");
    if (pieces.at(-1) === "") pieces.pop();
    for (const piece of pieces) added.push({ stream, text: piece });
  }
  const all = [...lines, ...added];
  return all.length > DETAIL_MAX_LINES ? all.slice(-DETAIL_MAX_LINES) : all;
}

/** A key command while a detail is open. */
export function detailCommand(
  state: DashboardState,
  detail: DetailState,
  command: Command,
): DashboardState {
  const page = Math.max(1, state.pageRows - 4);
  const scroll = (by: number): DashboardState => {
    const max = Math.max(0, visibleLines(detail).length - 1);
    const scrollBack = Math.max(0, Math.min(max, detail.scrollBack + by));
    return {
      ...state,
      detail: { ...detail, scrollBack, follow: scrollBack === 0 && detail.follow },
    };
  };
  switch (command) {
    case Command.Follow:
      return { ...state, detail: { ...detail, follow: !detail.follow, scrollBack: 0 } };
    case Command.Up:
      return scroll(1);
    case Command.Down:
      return scroll(-1);
    case Command.PageUp:
      return scroll(page);
    case Command.PageDown:
      return scroll(-page);
    case Command.Top:
      return scroll(detail.lines.length);
    case Command.Bottom:
      return { ...state, detail: { ...detail, scrollBack: 0 } };
    case Command.Search:
      return { ...state, input: { kind: "search", text: detail.search } };
    case Command.Cancel:
      return { ...state, confirm: { action: "cancel", ids: [detail.id] } };
    case Command.Resubmit:
      return { ...state, confirm: { action: "resubmit", ids: [detail.id] } };
    default:
      return state;
  }
}

/** What the detail's data layer reports, applied to the detail it is about (and no other). */
export function detailReducer(detail: DetailState, action: DetailAction): DetailState {
  switch (action.type) {
    case "detail-loaded":
      return { ...detail, view: action.view, error: undefined };
    case "detail-failed":
      return { ...detail, error: action.message };
    case "output": {
      const lines = appendLines(detail.lines, action.parts);
      // Scrolled up, the view stays on the same lines while new ones arrive below.
      const next = { ...detail, lines };
      const added = visibleLines(next).length - visibleLines(detail).length;
      return { ...next, scrollBack: detail.follow ? 0 : detail.scrollBack + added };
    }
    case "output-reset":
      return { ...detail, lines: [], attempt: undefined, scrollBack: 0 };
    case "attempt": {
      const lines =
        detail.attempt === undefined && action.attempt === 1
          ? detail.lines
          : appendLines(detail.lines, [
              ["stderr", `--- attempt ${action.attempt} on ${action.host} ---\n`],
            ]);
      return { ...detail, attempt: action.attempt, lines };
    }
  }
}
