/**
 * Compare: the same inputs sent to several models or versions at once — those a gateway lists, and
 * those of other `kiln serve` URLs added here — with their outputs side by side.
 */
import type { Api, Target } from "./api.js";
import type { Json } from "./fields.js";
import { announce, h, uid } from "./dom.js";
import { RunView } from "./run-view.js";
import { startRun, type RunHandle } from "./run.js";

export interface CompareDeps {
  api: Api;
  /** The form's input for a target (files resolved for that target's server); null when invalid. */
  inputFor(target: Target): Promise<Record<string, Json> | null>;
  /** Called after runs start, e.g. to refresh history. */
  onRun(): void;
}

export class CompareView {
  readonly element: HTMLElement;
  private readonly picker: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly message: HTMLElement;
  private readonly runButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private targets: Target[] = [];
  private readonly checked = new Set<string>();
  private handles: RunHandle[] = [];

  constructor(private readonly deps: CompareDeps) {
    const urlId = uid("server");
    const url = h("input", { type: "url", id: urlId, placeholder: "http://127.0.0.1:5001", class: "grow" });
    const add = h("button", { type: "button", class: "small" }, "Add server");
    const addServer = async (): Promise<void> => {
      const base = url.value.trim().replace(/\/+$/, "").replace(/\/v1$/, "");
      if (!base) return;
      try {
        const found = await this.deps.api.targets(base);
        for (const t of found) this.add(t, true);
        this.message.textContent = `Added ${found.length} model${found.length === 1 ? "" : "s"} from ${base}.`;
        url.value = "";
      } catch (err) {
        this.message.textContent = `Could not read models from ${base}: ${(err as Error).message}`;
      }
    };
    add.addEventListener("click", () => void addServer());
    url.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        void addServer();
      }
    });
    this.picker = h("fieldset", { class: "targets" }, h("legend", {}, "Models to compare"));
    this.grid = h("div", { class: "compare-grid", role: "list", "aria-label": "Comparison results" });
    this.message = h("p", { class: "muted", role: "status" });
    this.runButton = h("button", { type: "button", class: "primary" }, "Run on selected models");
    this.cancelButton = h("button", { type: "button", disabled: true }, "Cancel all");
    this.runButton.addEventListener("click", () => void this.run());
    this.cancelButton.addEventListener(
      "click",
      () => void Promise.all(this.handles.map((x) => x.cancel().catch(() => undefined))),
    );
    this.element = h(
      "div",
      { class: "compare" },
      this.picker,
      h("div", { class: "row" }, h("label", { for: urlId }, "Another server"), url, add),
      h("div", { class: "row" }, this.runButton, this.cancelButton, this.message),
      this.grid,
    );
  }

  private key(t: Target): string {
    return `${t.base} ${t.version}`;
  }

  add(t: Target, check: boolean): void {
    const key = this.key(t);
    if (this.targets.some((x) => this.key(x) === key)) return;
    this.targets.push(t);
    if (check) this.checked.add(key);
    const id = uid("target");
    const box = h("input", { type: "checkbox", id, checked: check });
    box.addEventListener("change", () => (box.checked ? this.checked.add(key) : this.checked.delete(key)));
    this.picker.append(
      h(
        "div",
        { class: "check" },
        box,
        h("label", { for: id }, t.label, h("span", { class: "muted mono" }, ` ${t.version.slice(0, 12)}`)),
      ),
    );
  }

  async run(): Promise<void> {
    const chosen = this.targets.filter((t) => this.checked.has(this.key(t)));
    if (chosen.length < 1) {
      this.message.textContent = "Select at least one model (add another server to compare).";
      return;
    }
    this.grid.replaceChildren();
    this.handles = [];
    this.runButton.disabled = true;
    this.cancelButton.disabled = false;
    const runs = chosen.map(async (t) => {
      const view = new RunView(t.label);
      view.element.setAttribute("role", "listitem");
      this.grid.append(view.element);
      const input = await this.deps.inputFor(t);
      if (!input) {
        view.fail("The form has errors: fix them first.");
        return;
      }
      try {
        const handle = await startRun(this.deps.api, t, input, view);
        this.handles.push(handle);
        await handle.done;
      } catch (err) {
        view.fail((err as Error).message);
      }
    });
    this.message.textContent = `Running on ${chosen.length} models…`;
    this.deps.onRun();
    await Promise.all(runs);
    this.runButton.disabled = false;
    this.cancelButton.disabled = true;
    this.message.textContent = `Compared ${chosen.length} models.`;
    announce("Comparison finished");
    this.deps.onRun();
  }
}
