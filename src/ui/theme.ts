// Colours and column layout shared by the views. Colour is a hint, never the only signal: each
// state is also written out, and NO_COLOR (https://no-color.org) turns colour off.
import { createContext, useContext } from "react";
import { formatDuration } from "../common/units.ts";
import type { ListedStage } from "../orchestration/client/list.ts";

export const STAGE_COLOR: Record<ListedStage, string> = {
  routing: "magenta",
  queued: "yellow",
  running: "cyan",
  succeeded: "green",
  failed: "red",
  timed_out: "red",
  canceled: "gray",
};

/** Whether to colour: off where NO_COLOR is set to anything but "". */
export function colorWanted(env: NodeJS.ProcessEnv): boolean {
  return (env.NO_COLOR ?? "") === "";
}

export const ColorContext = createContext(true);

/** A colour where colour is on, else none. */
export function useTint(): (color: string | undefined) => string | undefined {
  const on = useContext(ColorContext);
  return (color) => (on ? color : undefined);
}

/** `text` in exactly `width` cells: cut with an ellipsis, or padded. */
export function cell(text: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  return align === "left" ? cut.padEnd(width) : cut.padStart(width);
}

/**
 * An age for a column: whole seconds, and no finer than two units (`59m59s`, `1h30m`, `2d3h`),
 * so that it fits six cells.
 */
export function formatAge(ms: number): string {
  const unit = ms >= 86_400_000 ? 3_600_000 : ms >= 3_600_000 ? 60_000 : 1_000;
  return formatDuration(Math.max(0, Math.floor(ms / unit) * unit));
}
