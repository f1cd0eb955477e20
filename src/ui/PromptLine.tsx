import { Text } from "ink";
import type { DashboardState } from "./state.ts";
import { useTint } from "./theme.ts";

/** The line above the status: the command or filter being typed, a confirmation, or a message. */
export function PromptLine({
  state,
  position,
}: {
  state: DashboardState;
  /** Where the selection is in the list, where a list is shown: "row 3 of 120". */
  position?: string | undefined;
}) {
  const tint = useTint();
  if (state.input)
    return (
      <Text wrap="truncate">{`${state.input.kind === "command" ? ":" : "/"}${state.input.text}█`}</Text>
    );
  if (state.confirm) {
    const ids = state.confirm.ids;
    const what = ids.length === 1 ? `job ${ids[0]}` : `${ids.length} jobs`;
    return (
      <Text wrap="truncate" color={tint("yellow")} bold>
        {state.confirm.action === "cancel"
          ? `Cancel ${what}? y/N`
          : `Resubmit ${what} as a new job? y/N`}
      </Text>
    );
  }
  if (state.flash) return <Text wrap="truncate">{state.flash}</Text>;
  return (
    <Text wrap="truncate" dimColor>
      {position ?? " "}
    </Text>
  );
}
