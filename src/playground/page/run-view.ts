/**
 * One prediction on screen: status, id, timings, metrics, live output and logs. The run panel shows one;
 * the compare panel one per model, side by side.
 */
import type { Prediction } from "./api.js";
import type { Json } from "./fields.js";
import { clear, h, seconds } from "./dom.js";
import { renderOutput } from "./output-view.js";
import { classify } from "./media.js";

export class RunView {
  readonly element: HTMLElement;
  private readonly status: HTMLElement;
  private readonly idLine: HTMLElement;
  private readonly timings: HTMLElement;
  private readonly metrics: HTMLElement;
  private readonly output: HTMLElement;
  private readonly logs: HTMLElement;
  private readonly error: HTMLElement;
  private liveText: HTMLElement | null = null;
  private liveList: HTMLElement | null = null;
  private startedAt = 0;
  private timer: number | undefined;

  constructor(title: string | null) {
    this.status = h("span", { class: "status status-idle", "data-status": "idle" }, "idle");
    this.idLine = h("span", { class: "pred-id mono" });
    this.timings = h("dl", { class: "timings", "aria-label": "Timings" });
    this.metrics = h("dl", { class: "metrics", "aria-label": "Metrics" });
    this.output = h("div", { class: "output", role: "region", "aria-label": "Output", "aria-live": "off" });
    this.logs = h("pre", { class: "logs mono", role: "log", "aria-label": "Logs", tabindex: 0 });
    this.error = h("p", { class: "run-error", role: "alert", hidden: true });
    this.element = h(
      "article",
      { class: "run-view", "aria-label": title ?? "Prediction" },
      title ? h("h3", { class: "run-title" }, title) : null,
      h("div", { class: "run-head" }, h("span", { class: "sr-only" }, "Status: "), this.status, this.idLine),
      this.error,
      this.output,
      h(
        "details",
        { class: "run-details", open: true },
        h("summary", {}, "Timings and metrics"),
        this.timings,
        this.metrics,
      ),
      h("details", { class: "run-details", open: true }, h("summary", {}, "Logs"), this.logs),
    );
    this.reset();
  }

  reset(): void {
    this.setStatus("idle");
    this.idLine.textContent = "";
    clear(this.output, h("p", { class: "muted" }, "Run the model to see its output here."));
    this.logs.textContent = "";
    this.timings.replaceChildren();
    this.metrics.replaceChildren();
    this.error.hidden = true;
    this.liveText = null;
    this.liveList = null;
    window.clearInterval(this.timer);
  }

  begin(): void {
    this.reset();
    this.setStatus("starting");
    clear(this.output);
    this.output.setAttribute("aria-busy", "true");
    this.startedAt = performance.now();
    this.timer = window.setInterval(() => this.tick(), 100);
  }

  /** The server refused to create the prediction (validation, auth, capacity): nothing ran. */
  notStarted(): void {
    window.clearInterval(this.timer);
    this.output.removeAttribute("aria-busy");
    this.setStatus("not started");
    clear(this.output, h("p", { class: "muted" }, "Nothing ran."));
    this.timings.replaceChildren();
  }

  private tick(): void {
    this.setTimings([["Elapsed", seconds(performance.now() - this.startedAt)]]);
  }

  setStatus(status: string): void {
    this.status.textContent = status;
    this.status.dataset.status = status;
    this.status.className = `status status-${status.replace(/\s+/g, "-")}`;
  }

  setId(id: string): void {
    this.idLine.textContent = id;
  }

  fail(message: string): void {
    this.error.hidden = false;
    this.error.textContent = message;
  }

  /** A streamed text piece (ConcatenateIterator): appended, token by token. */
  appendText(chunk: string): void {
    if (!this.liveText) {
      this.liveText = h("pre", { class: "output-text streaming" });
      this.output.append(this.liveText);
    }
    this.liveText.textContent += chunk;
  }

  /** A streamed item of an iterator (an image per step, a line...): shown as it arrives. */
  appendItem(value: Json): void {
    if (!this.liveList) {
      this.liveList = h("ol", { class: "output-list" });
      this.output.append(this.liveList);
    }
    this.liveList.append(h("li", {}, renderOutput(value, false)));
  }

  appendLog(line: string): void {
    const atEnd = this.logs.scrollTop + this.logs.clientHeight >= this.logs.scrollHeight - 4;
    this.logs.textContent += `${line}\n`;
    if (atEnd) this.logs.scrollTop = this.logs.scrollHeight;
  }

  private setTimings(rows: [string, string][]): void {
    this.timings.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  /** The prediction as the server reports it: status, timings, metrics; when finished, the output too. */
  show(p: Prediction, concatenate: boolean, final: boolean): void {
    this.setStatus(p.status);
    this.setId(p.id);
    if (!final) return;
    window.clearInterval(this.timer);
    this.output.removeAttribute("aria-busy");
    const rows: [string, string][] = [];
    const t = (s: string | null): number | null => (s ? Date.parse(s) : null);
    const created = t(p.created_at);
    const started = t(p.started_at);
    const completed = t(p.completed_at);
    if (created !== null && started !== null) rows.push(["Queued", seconds(started - created)]);
    if (started !== null && completed !== null) rows.push(["Running", seconds(completed - started)]);
    if (created !== null && completed !== null) rows.push(["Total", seconds(completed - created)]);
    this.setTimings(rows);
    const metrics = Object.entries(p.metrics ?? {});
    this.metrics.replaceChildren(
      ...metrics.flatMap(([k, v]) => [
        h("dt", {}, k),
        h("dd", {}, typeof v === "number" ? String(Math.round(v * 1e6) / 1e6) : JSON.stringify(v)),
      ]),
    );
    if (p.logs !== null && p.logs !== undefined) this.logs.textContent = p.logs;
    if (p.error) this.fail(p.error);
    // The final output replaces what was streamed (same content, rendered from the authoritative value).
    const shown = classify(p.output, concatenate);
    if (p.output !== null || p.status === "succeeded")
      clear(this.output, renderOutput(p.output, concatenate));
    else if (!this.liveText && !this.liveList)
      clear(this.output, h("p", { class: "muted" }, `No output (${p.status}).`));
    this.output.dataset.kind = shown.kind;
  }
}
