/**
 * The input form, one control per field of the schema: labels, descriptions, ranges and defaults shown,
 * errors (the server's, or a value that does not parse) at the field with aria-invalid. Native controls
 * throughout, so keyboard and screen readers work without extra scripting.
 */
import type { Field, Json } from "./fields.js";
import { rangeText } from "./fields.js";
import { h, uid } from "./dom.js";
import { createFileControl, type FileEntry } from "./file-field.js";
import { collectInput, displayValue, type Collected, type FieldErrors, type RawValue } from "./values.js";

/** Turns a picked file into a URL the target server accepts (an upload, or a data: URI). */
export type FileResolver = (entry: FileEntry) => Promise<string>;

interface FieldView {
  field: Field;
  root: HTMLElement;
  focusTarget: HTMLElement;
  raw(resolve: FileResolver): Promise<RawValue>;
  set(value: Json | undefined): void;
  setErrors(messages: string[]): void;
}

function itemControl(
  f: Field,
  id: string,
  describedBy: string,
  label: string,
): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement {
  const common = { id, "aria-describedby": describedBy, name: f.name };
  switch (f.kind) {
    case "integer":
    case "number":
      return h("input", {
        ...common,
        type: "number",
        inputmode: f.kind === "integer" ? "numeric" : "decimal",
        step: f.kind === "integer" ? 1 : "any",
        min: f.minimum ?? undefined,
        max: f.maximum ?? undefined,
      });
    case "choice": {
      const select = h("select", common);
      if (!f.required && f.default === undefined) select.append(h("option", { value: "" }, "(not set)"));
      for (const c of f.choices ?? []) select.append(h("option", { value: String(c) }, String(c)));
      return select;
    }
    case "textarea":
      return h("textarea", {
        ...common,
        rows: 4,
        maxlength: f.maxLength ?? undefined,
        minlength: f.minLength ?? undefined,
      });
    case "json":
      return h("textarea", {
        ...common,
        rows: 3,
        class: "mono",
        spellcheck: "false",
        placeholder: 'JSON, e.g. {"key": 1}',
      });
    case "secret":
      return h("input", { ...common, type: "password", autocomplete: "off", spellcheck: "false" });
    default:
      return h("input", {
        ...common,
        type: "text",
        maxlength: f.maxLength ?? undefined,
        minlength: f.minLength ?? undefined,
        pattern: f.pattern ?? undefined,
        "aria-label": label === f.title ? undefined : label,
      });
  }
}

function describe(f: Field): string {
  const parts: string[] = [];
  if (f.description) parts.push(/[.!?:]$/.test(f.description) ? f.description : `${f.description}.`);
  const range = rangeText(f);
  if (range) parts.push(`Range ${range}.`);
  if (f.minLength !== null || f.maxLength !== null)
    parts.push(`Length ${f.minLength ?? 0}–${f.maxLength ?? "∞"}.`);
  if (f.pattern) parts.push(`Pattern ${f.pattern}.`);
  if (f.default !== undefined && f.default !== null && f.kind !== "secret")
    parts.push(`Default: ${typeof f.default === "string" ? f.default : JSON.stringify(f.default)}.`);
  if (f.deprecated) parts.push("Deprecated.");
  return parts.join(" ");
}

function kindLabel(f: Field): string {
  const base = f.kind === "textarea" || f.kind === "text" ? "string" : f.kind;
  return f.list ? `list of ${base}` : base;
}

function createFieldView(f: Field): FieldView {
  const id = uid(`in-${f.name}`);
  const descId = uid("desc");
  const errId = uid("err");
  const describedBy = `${descId} ${errId}`;
  const desc = h("p", { class: "desc", id: descId }, describe(f));
  const error = h("p", { class: "field-error", id: errId, hidden: true });
  const title = h(
    "label",
    { for: id, class: "field-label" },
    f.title,
    f.required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null,
    f.required ? h("span", { class: "sr-only" }, " (required)") : null,
    h("span", { class: "kind", "aria-hidden": "true" }, kindLabel(f)),
  );
  const root = h("div", {
    class: `field field-${f.kind}${f.list ? " field-list" : ""}`,
    "data-field": f.name,
  });
  let focusTarget: HTMLElement;
  let raw: FieldView["raw"];
  let set: FieldView["set"];
  const controls: HTMLElement[] = [];

  if (f.kind === "file") {
    const fc = createFileControl({ id, multiple: f.list, accept: f.accept, describedBy, label: f.title });
    controls.push(fc.input);
    focusTarget = fc.input;
    root.append(title, desc, fc.root, error);
    raw = async (resolve) => {
      const urls = await Promise.all(fc.entries().map((e) => resolve(e)));
      return f.list ? urls : (urls[0] ?? null);
    };
    set = (v) => fc.set(v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
  } else if (f.kind === "boolean" && !f.list) {
    const box = h("input", { type: "checkbox", id, "aria-describedby": describedBy, name: f.name });
    controls.push(box);
    focusTarget = box;
    root.append(h("div", { class: "check" }, box, title), desc, error);
    raw = async () => box.checked;
    set = (v) => (box.checked = displayValue(f, v) === true);
  } else if (f.list) {
    const items = h("ol", { class: "list-items" });
    const add = h("button", { type: "button", class: "small" }, `Add ${f.title} item`);
    const addItem = (text: string): HTMLElement => {
      const n = items.children.length + 1;
      const itemId = uid(`item-${f.name}`);
      const control = itemControl(f, itemId, describedBy, `${f.title} item ${n}`);
      control.value = text;
      if (!control.getAttribute("aria-label")) control.setAttribute("aria-label", `${f.title} item ${n}`);
      const remove = h(
        "button",
        { type: "button", class: "small", "aria-label": `Remove ${f.title} item ${n}` },
        "Remove",
      );
      const li = h("li", {}, control, remove);
      remove.addEventListener("click", () => {
        li.remove();
        add.focus();
      });
      items.append(li);
      return control;
    };
    add.addEventListener("click", () => addItem("").focus());
    title.htmlFor = uid("none"); // the label names the group below, not one input
    title.id = uid("lbl");
    const group = h(
      "div",
      { role: "group", "aria-labelledby": title.id, "aria-describedby": describedBy },
      items,
      add,
    );
    focusTarget = add;
    root.append(title, desc, group, error);
    raw = async () =>
      [...items.querySelectorAll<HTMLInputElement>("input,select,textarea")].map((c) => c.value);
    set = (v) => {
      items.replaceChildren();
      const shown = displayValue(f, v);
      for (const text of Array.isArray(shown) ? shown : []) addItem(String(text));
    };
    controls.push(group);
  } else {
    const control = itemControl(f, id, describedBy, f.title);
    controls.push(control);
    focusTarget = control;
    const row = h("div", { class: "control-row" }, control);
    if ((f.kind === "integer" || f.kind === "number") && f.minimum !== null && f.maximum !== null) {
      // The slider is a pointer convenience; the number box is the accessible control.
      const slider = h("input", {
        type: "range",
        min: f.minimum,
        max: f.maximum,
        step: f.kind === "integer" ? 1 : (f.maximum - f.minimum) / 100,
        tabindex: -1,
        "aria-hidden": "true",
      });
      slider.addEventListener("input", () => (control.value = slider.value));
      control.addEventListener("input", () => (slider.value = control.value));
      row.append(slider);
      const orig = control;
      const syncSet = (v: Json | undefined): void => {
        orig.value = String(displayValue(f, v));
        slider.value = orig.value;
      };
      set = syncSet;
    } else {
      set = (v) => (control.value = String(displayValue(f, v)));
    }
    if (f.kind === "secret") {
      const toggle = h(
        "button",
        { type: "button", class: "small", "aria-pressed": "false", "aria-label": `Show ${f.title}` },
        "Show",
      );
      toggle.addEventListener("click", () => {
        const show = (control as HTMLInputElement).type === "password";
        (control as HTMLInputElement).type = show ? "text" : "password";
        toggle.setAttribute("aria-pressed", String(show));
        toggle.textContent = show ? "Hide" : "Show";
      });
      row.append(toggle);
    }
    root.append(title, desc, row, error);
    raw = async () => control.value;
  }

  return {
    field: f,
    root,
    focusTarget,
    raw,
    set,
    setErrors(messages) {
      error.hidden = messages.length === 0;
      error.textContent = messages.join(" ");
      for (const c of controls) {
        if (messages.length > 0) c.setAttribute("aria-invalid", "true");
        else c.removeAttribute("aria-invalid");
      }
      root.classList.toggle("invalid", messages.length > 0);
    },
  };
}

export class InputForm {
  readonly element: HTMLFormElement;
  private readonly views: FieldView[];
  private readonly general: HTMLElement;

  constructor(readonly fields: Field[]) {
    this.views = fields.map(createFieldView);
    this.general = h("div", { class: "form-errors", role: "alert", hidden: true });
    this.element = h(
      "form",
      { class: "input-form", novalidate: true, "aria-label": "Model inputs" },
      this.general,
      ...this.views.map((v) => v.root),
    );
    if (fields.length === 0) this.element.append(h("p", { class: "muted" }, "This model takes no inputs."));
    this.reset();
  }

  reset(): void {
    for (const v of this.views) v.set(v.field.default);
    this.clearErrors();
  }

  fill(input: Record<string, Json>): void {
    for (const v of this.views) v.set(v.field.name in input ? input[v.field.name] : v.field.default);
    this.clearErrors();
  }

  async collect(resolve: FileResolver): Promise<Collected> {
    const raw: Record<string, RawValue> = {};
    for (const v of this.views) raw[v.field.name] = await v.raw(resolve);
    return collectInput(this.fields, raw);
  }

  clearErrors(): void {
    for (const v of this.views) v.setErrors([]);
    this.general.hidden = true;
    this.general.textContent = "";
  }

  /** Shows errors at their fields and moves focus to the first one, so keyboard users land there. */
  showErrors(errors: FieldErrors): void {
    this.clearErrors();
    let first: FieldView | undefined;
    for (const v of this.views) {
      const messages = errors.byField[v.field.name] ?? [];
      v.setErrors(messages);
      if (messages.length > 0) first ??= v;
    }
    if (errors.general.length > 0) {
      this.general.hidden = false;
      this.general.replaceChildren(...errors.general.map((m) => h("p", {}, m)));
    }
    first?.focusTarget.focus();
  }
}
