/** The "Code" panel: the current inputs as curl / replicate JS / Python, one tab each, with a copy button. */
import { h, announce } from "./dom.js";
import { envName, LANGUAGES, snippet, type CallSpec, type Language } from "./code.js";
import { createTabs } from "./tabs.js";

export interface CodeView {
  element: HTMLElement;
  update(spec: CallSpec | null, note?: string): void;
}

export function createCodeView(): CodeView {
  const blocks = new Map<Language, HTMLElement>();
  let current: CallSpec | null = null;
  const note = h("p", { class: "muted code-note" });
  const tabs = createTabs(
    "Language",
    LANGUAGES.map(({ id, label }) => {
      const pre = h("pre", { class: "code mono", "data-lang": id, "aria-label": `${label} code` });
      blocks.set(id, pre);
      const copy = h("button", { type: "button", class: "small copy", "data-copy": id }, `Copy ${label}`);
      copy.addEventListener("click", async () => {
        const text = pre.textContent ?? "";
        try {
          await navigator.clipboard.writeText(text);
          announce(`${label} code copied`);
          copy.textContent = "Copied";
        } catch {
          // No clipboard permission (plain http on another host): select the text for Ctrl+C.
          const range = document.createRange();
          range.selectNodeContents(pre);
          getSelection()?.removeAllRanges();
          getSelection()?.addRange(range);
          announce("Code selected: press Ctrl+C to copy");
        }
        setTimeout(() => (copy.textContent = `Copy ${label}`), 1500);
      });
      return { id, label, panel: h("div", { class: "code-panel" }, copy, pre) };
    }),
  );
  const element = h("div", { class: "code-view" }, note, tabs.element);
  return {
    element,
    update(spec, text) {
      current = spec;
      note.textContent =
        text ??
        (spec
          ? `Pinned to version ${spec.version.slice(0, 12)}…${
              spec.secrets.some((x) => x in spec.input)
                ? ` Secrets are read from environment variables (${spec.secrets
                    .filter((x) => x in spec.input)
                    .map(envName)
                    .join(", ")}).`
                : ""
            }${spec.token ? " The token is read from $KILN_API_TOKEN." : ""}`
          : "");
      for (const [lang, pre] of blocks) pre.textContent = current ? snippet(lang, current) : "";
    },
  };
}
