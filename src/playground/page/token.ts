/** Asks for the server's API token (`kiln serve --api-token`) in a modal dialog; Esc cancels. */
import { h, uid } from "./dom.js";

export function askToken(base: string, reason: string): Promise<string | null> {
  const inputId = uid("token");
  const input = h("input", {
    type: "password",
    id: inputId,
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const dialog = h(
    "dialog",
    { class: "token-dialog", "aria-labelledby": `${inputId}-title` },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: `${inputId}-title` }, "API token"),
      h(
        "p",
        {},
        `${reason} ${base} was started with --api-token: enter that token. It is kept in this tab only.`,
      ),
      h("label", { for: inputId }, "Token"),
      input,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { value: "cancel", type: "submit", formnovalidate: true }, "Cancel"),
        h("button", { value: "ok", type: "submit", class: "primary" }, "Use token"),
      ),
    ),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok" && input.value.trim() !== "";
      dialog.remove();
      resolve(ok ? input.value.trim() : null);
    });
    dialog.showModal();
    input.focus();
  });
}
