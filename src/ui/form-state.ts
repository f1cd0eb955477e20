// The submit form (`s`): its fields as typed, which one has the cursor, and why the last try
// was refused. Pure; the data layer reads the script and submits (submit-job.ts).

export const FORM_FIELDS = [
  "script",
  "group",
  "args",
  "timeout",
  "memory",
  "gpus",
  "mode",
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export const FIELD_LABEL: Record<FormField, string> = {
  script: "Script",
  group: "Group",
  args: "Arguments",
  timeout: "Timeout",
  memory: "Memory",
  gpus: "GPUs",
  mode: "Mode",
};

/** What each field says under the form while it has the cursor. */
export const FIELD_HINT: Record<FormField, string> = {
  script: "a file path; Tab completes it from the file system",
  group: "← → pick a live group, or type one",
  args: "passed to the script, split on spaces",
  timeout: "longest one run may take, e.g. 10m, 2h",
  memory: "memory limit, e.g. 2G (empty: the worker's)",
  gpus: "GPUs asked for: a count, or shared (a share of one); empty: none asked",
  mode: "← → detach or wait (the router treats both alike)",
};

export interface SubmitForm {
  values: Record<FormField, string>;
  focus: FormField;
  /** Why the last submission was refused, or what it is doing now. */
  message: string | undefined;
  submitting: boolean;
}

export type FormAction =
  | { type: "form-open"; group: string }
  | { type: "form-edit"; append: string }
  | { type: "form-edit"; backspace: true }
  | { type: "form-set"; field: FormField; value: string }
  | { type: "form-focus"; by: 1 | -1 }
  | { type: "form-submitting" }
  | { type: "form-failed"; message: string }
  | { type: "form-close" };

export function openForm(group: string): SubmitForm {
  return {
    values: { script: "", group, args: "", timeout: "10m", memory: "", gpus: "", mode: "detach" },
    focus: "script",
    message: undefined,
    submitting: false,
  };
}

export function formReducer(form: SubmitForm, action: FormAction): SubmitForm | undefined {
  switch (action.type) {
    case "form-open":
      return openForm(action.group);
    case "form-edit": {
      if (form.submitting || form.focus === "mode") return form;
      const now = form.values[form.focus];
      const value = "append" in action ? now + action.append : now.slice(0, -1);
      return { ...form, values: { ...form.values, [form.focus]: value }, message: undefined };
    }
    case "form-set":
      return { ...form, values: { ...form.values, [action.field]: action.value } };
    case "form-focus": {
      const at = FORM_FIELDS.indexOf(form.focus);
      const next = FORM_FIELDS[(at + action.by + FORM_FIELDS.length) % FORM_FIELDS.length];
      return { ...form, focus: next ?? "script" };
    }
    case "form-submitting":
      return { ...form, submitting: true, message: "submitting…" };
    case "form-failed":
      return { ...form, submitting: false, message: action.message };
    case "form-close":
      return undefined;
  }
}

/** The next of `choices` after `current` (← →), round; the first where it is none of them. */
export function cycle(choices: readonly string[], current: string, by: 1 | -1): string {
  if (choices.length === 0) return current;
  const at = choices.indexOf(current);
  if (at < 0) return choices[0] ?? current;
  return choices[(at + by + choices.length) % choices.length] ?? current;
}
