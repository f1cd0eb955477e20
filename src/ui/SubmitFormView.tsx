import { Box, Text } from "ink";
import { FIELD_HINT, FIELD_LABEL, FORM_FIELDS, type SubmitForm } from "./form-state.ts";
import { cell, useTint } from "./theme.ts";

/** The submit form: one line a field, the cursor's field marked, its hint and any refusal below. */
export function SubmitFormView({ form, columns }: { form: SubmitForm; columns: number }) {
  const tint = useTint();
  const width = Math.max(10, columns - 16);
  return (
    <Box flexDirection="column" flexGrow={1}>
      <Text bold wrap="truncate">
        Submit a job
      </Text>
      {FORM_FIELDS.map((field) => {
        const focused = form.focus === field;
        const value = form.values[field];
        // The end of a long value stays in sight: that is where typing happens.
        const shown = value.length > width - 1 ? `…${value.slice(-(width - 2))}` : value;
        return (
          <Text key={field} wrap="truncate">
            {focused ? "> " : "  "}
            <Text bold={focused}>{cell(FIELD_LABEL[field], 11)}</Text>
            <Text inverse={focused}>{focused ? `${shown}█` : shown || " "}</Text>
          </Text>
        );
      })}
      <Text dimColor wrap="truncate">
        {`  ${FIELD_HINT[form.focus]}`}
      </Text>
      {form.message ? (
        <Text wrap="truncate" color={tint(form.submitting ? undefined : "red")}>
          {`  ${form.message}`}
        </Text>
      ) : null}
    </Box>
  );
}
