/**
 * Accessible tabs (WAI-ARIA tabs pattern): a tablist of buttons, arrow keys/Home/End move between them,
 * only the selected tab is in the tab order, each panel is labelled by its tab.
 */
import { h, uid } from "./dom.js";

export interface TabSpec {
  id: string;
  label: string;
  panel: HTMLElement;
}

export interface Tabs {
  element: HTMLElement;
  select(id: string): void;
  onChange(fn: (id: string) => void): void;
}

export function createTabs(label: string, specs: TabSpec[]): Tabs {
  const listeners: ((id: string) => void)[] = [];
  const list = h("div", { role: "tablist", "aria-label": label, class: "tablist" });
  const buttons: HTMLButtonElement[] = [];
  const wrap = h("div", { class: "tabs" }, list);
  for (const spec of specs) {
    const tabId = uid(`tab-${spec.id}`);
    const panelId = uid(`panel-${spec.id}`);
    const b = h(
      "button",
      { type: "button", role: "tab", id: tabId, "aria-controls": panelId, "data-tab": spec.id },
      spec.label,
    );
    spec.panel.id = panelId;
    spec.panel.setAttribute("role", "tabpanel");
    spec.panel.setAttribute("aria-labelledby", tabId);
    spec.panel.tabIndex = 0;
    b.addEventListener("click", () => select(spec.id));
    b.addEventListener("keydown", (e) => {
      const i = buttons.indexOf(b);
      const next =
        e.key === "ArrowRight"
          ? i + 1
          : e.key === "ArrowLeft"
            ? i - 1
            : e.key === "Home"
              ? 0
              : e.key === "End"
                ? buttons.length - 1
                : null;
      if (next === null) return;
      e.preventDefault();
      const target = buttons[(next + buttons.length) % buttons.length]!;
      select(target.dataset.tab!);
      target.focus();
    });
    buttons.push(b);
    list.append(b);
    wrap.append(spec.panel);
  }
  function select(id: string): void {
    specs.forEach((spec, i) => {
      const on = spec.id === id;
      buttons[i]!.setAttribute("aria-selected", String(on));
      buttons[i]!.tabIndex = on ? 0 : -1;
      spec.panel.hidden = !on;
    });
    for (const fn of listeners) fn(id);
  }
  select(specs[0]!.id);
  return { element: wrap, select, onChange: (fn) => listeners.push(fn) };
}
