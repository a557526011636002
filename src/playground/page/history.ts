/**
 * The server's predictions (GET /v1/predictions, newest first, paged by `next`): status, when, which
 * model, the inputs. "Open" shows one and puts its inputs in the form to edit; "Run again" reruns it.
 */
import type { Api, Prediction } from "./api.js";
import type { Json } from "./fields.js";
import { h } from "./dom.js";

export interface HistoryHandlers {
  open(p: Prediction): void;
  rerun(p: Prediction): void;
}

function summary(input: Record<string, Json>): string {
  const parts = Object.entries(input ?? {}).map(([k, v]) => {
    const text = typeof v === "string" ? (v.startsWith("data:") ? "(file)" : v) : JSON.stringify(v);
    return `${k}=${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
  });
  return parts.join(", ") || "(no inputs)";
}

export class HistoryView {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly message: HTMLElement;
  private next: string | null = null;

  constructor(
    private readonly api: Api,
    private readonly base: () => string,
    private readonly handlers: HistoryHandlers,
  ) {
    this.list = h("ol", { class: "history-list", "aria-label": "Predictions on this server" });
    this.more = h("button", { type: "button", class: "small", hidden: true }, "Load older predictions");
    this.more.addEventListener("click", () => void this.load(true));
    this.message = h("p", { class: "muted", role: "status" });
    const refresh = h("button", { type: "button", class: "small" }, "Refresh");
    refresh.addEventListener("click", () => void this.load(false));
    this.element = h(
      "div",
      { class: "history" },
      h("div", { class: "row" }, refresh, this.message),
      this.list,
      this.more,
    );
  }

  async load(append = false): Promise<void> {
    try {
      const page = await this.api.list(this.base(), append && this.next ? this.next : undefined);
      if (!append) this.list.replaceChildren();
      for (const p of page.results) this.list.append(this.row(p));
      this.next = page.next;
      this.more.hidden = !page.next;
      this.message.textContent =
        this.list.children.length === 0 ? "No predictions yet." : `${this.list.children.length} predictions`;
    } catch (err) {
      this.message.textContent = `Could not list predictions: ${(err as Error).message}`;
    }
  }

  private row(p: Prediction): HTMLElement {
    const when = p.created_at ? new Date(p.created_at).toLocaleTimeString() : "";
    const open = h(
      "button",
      { type: "button", class: "small", "aria-label": `Open prediction ${p.id}` },
      "Open",
    );
    const rerun = h(
      "button",
      { type: "button", class: "small", "aria-label": `Run prediction ${p.id} again` },
      "Run again",
    );
    open.addEventListener("click", () => this.handlers.open(p));
    rerun.addEventListener("click", () => this.handlers.rerun(p));
    return h(
      "li",
      { class: "history-item", "data-id": p.id },
      h("span", { class: `status status-${p.status}` }, p.status),
      h("span", { class: "mono" }, p.id),
      h("span", { class: "muted" }, `${when}${p.model ? ` · ${p.model}` : ""}`),
      h("span", { class: "history-input" }, summary(p.input)),
      h("span", { class: "history-actions" }, open, rerun),
    );
  }
}
