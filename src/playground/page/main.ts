/**
 * The playground page: loads the model(s) from the server's /v1 API, renders the input form from the
 * OpenAPI schema, runs predictions with live output, and wires the compare, history, code and webhook
 * panels. `?api=URL` points the page at another server or gateway; `?webhooks=URL` at a receiver.
 */
import { Api, ApiError, type Prediction, type Target } from "./api.js";
import { inputFields, outputShape, type Field, type Json } from "./fields.js";
import { announce, clear, h, uid } from "./dom.js";
import { InputForm, type FileResolver } from "./form.js";
import type { FileEntry } from "./file-field.js";
import { RunView } from "./run-view.js";
import { startRun, type RunHandle } from "./run.js";
import { createTabs } from "./tabs.js";
import { createCodeView } from "./code-view.js";
import { HistoryView } from "./history.js";
import { CompareView } from "./compare.js";
import { WebhookInspector } from "./webhooks.js";
import { fieldErrors } from "./values.js";
import { askToken } from "./token.js";

const params = new URLSearchParams(location.search);
const base = (params.get("api") ?? location.origin).replace(/\/+$/, "").replace(/\/v1$/, "");
const api = new Api(askToken);

const uploads = new WeakMap<File, Map<string, Promise<string>>>();

function dataUri(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("cannot read the file"));
    reader.readAsDataURL(file);
  });
}

/** Files go to that server's /v1/files once (a short URL for inputs and code); else a data: URI. */
function resolverFor(server: string): FileResolver {
  return (entry: FileEntry) => {
    if ("url" in entry) return Promise.resolve(entry.url);
    let byBase = uploads.get(entry.file);
    if (!byBase) uploads.set(entry.file, (byBase = new Map()));
    let url = byBase.get(server);
    if (!url) {
      url = api.upload(server, entry.file).catch(() => dataUri(entry.file));
      byBase.set(server, url);
    }
    return url;
  };
}

function secretNames(fields: Field[]): string[] {
  return fields.filter((f) => f.kind === "secret").map((f) => f.name);
}

async function loadTargets(status: HTMLElement): Promise<Target[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.targets(base);
    } catch (err) {
      // 503 while the model's setup runs: wait for it.
      if (!(err instanceof ApiError) || err.status !== 503 || attempt > 3600) throw err;
      status.textContent = `The model is starting (${err.message})… waiting.`;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function boot(): Promise<void> {
  const app = document.getElementById("app")!;
  const status = h("p", { class: "muted", role: "status" }, `Loading the model from ${base}…`);
  clear(app, status);
  let targets: Target[];
  try {
    targets = await loadTargets(status);
  } catch (err) {
    clear(
      app,
      h(
        "div",
        { class: "fatal", role: "alert" },
        h("h2", {}, "Cannot load the model"),
        h("p", {}, (err as Error).message),
        h("p", {}, `Server: ${base}`),
      ),
    );
    return;
  }
  if (targets.length === 0) {
    clear(app, h("p", { role: "alert" }, `${base} serves no models.`));
    return;
  }
  let target = targets[0]!;
  let fields: Field[] = [];
  let form: InputForm;
  let handle: RunHandle | null = null;

  const modelId = uid("model");
  const modelSelect = h(
    "select",
    { id: modelId },
    ...targets.map((t, i) => h("option", { value: String(i) }, t.label)),
  );
  const versionOut = h("span", { class: "mono muted version" });
  const tokenButton = h("button", { type: "button", class: "small" }, "API token…");
  tokenButton.addEventListener("click", async () => {
    const t = await askToken(base, "Set the token used for this server.");
    if (t) api.setToken(base, t);
  });
  const header = h(
    "header",
    { class: "top" },
    h("h1", {}, "kiln playground"),
    h("div", { class: "row" }, h("label", { for: modelId }, "Model"), modelSelect, versionOut),
    h("span", { class: "muted server" }, base),
    tokenButton,
  );

  const formHost = h("div", { class: "form-host" });
  const runButton = h(
    "button",
    { type: "button", class: "primary", "aria-keyshortcuts": "Control+Enter" },
    "Run",
  );
  const cancelButton = h("button", { type: "button", disabled: true }, "Cancel");
  const resetButton = h("button", { type: "button" }, "Reset");
  const hint = h("span", { class: "muted" }, "Ctrl+Enter runs");
  const inputs = h(
    "section",
    { class: "inputs", "aria-labelledby": "inputs-h" },
    h("h2", { id: "inputs-h" }, "Inputs"),
    formHost,
    h("div", { class: "actions" }, runButton, cancelButton, resetButton, hint),
  );

  const runView = new RunView(null);
  const code = createCodeView();
  const history = new HistoryView(api, () => base, {
    open: (p) => openPrediction(p, false),
    rerun: (p) => openPrediction(p, true),
  });
  const inspector = new WebhookInspector(api, () => target.base, params.get("webhooks"));
  const compare = new CompareView({
    api,
    inputFor: async (t) => {
      const c = await form.collect(resolverFor(t.base));
      return Object.keys(c.errors).length > 0 ? null : c.input;
    },
    onRun: () => void history.load(),
  });
  for (const t of targets) compare.add(t, targets.length > 1 || t === target);
  const panels = createTabs("Results", [
    { id: "output", label: "Output", panel: h("div", {}, runView.element) },
    { id: "compare", label: "Compare", panel: h("div", {}, compare.element) },
    { id: "history", label: "History", panel: h("div", {}, history.element) },
    { id: "code", label: "Code", panel: h("div", {}, code.element) },
    { id: "webhooks", label: "Webhooks", panel: h("div", {}, inspector.element) },
  ]);
  panels.onChange((id) => {
    if (id === "history") void history.load();
    if (id === "code") void updateCode();
  });
  const results = h(
    "section",
    { class: "results", "aria-labelledby": "results-h" },
    h("h2", { id: "results-h", class: "sr-only" }, "Results"),
    panels.element,
  );
  clear(app, header, h("main", { class: "layout" }, inputs, results));

  let codeTimer: number | undefined;
  async function updateCode(): Promise<void> {
    const c = await form.collect(resolverFor(target.base));
    if (Object.keys(c.errors).length > 0) {
      code.update(null, "Fix the highlighted inputs to see the code.");
      return;
    }
    code.update({
      base: target.base,
      model: target.model,
      version: target.version,
      input: c.input,
      secrets: secretNames(fields),
      token: api.tokenFor(target.base) !== null,
    });
  }

  function selectTarget(t: Target): void {
    target = t;
    fields = inputFields(t.openapi);
    form = new InputForm(fields);
    form.element.addEventListener("input", () => {
      window.clearTimeout(codeTimer);
      codeTimer = window.setTimeout(() => void updateCode(), 250);
    });
    form.element.addEventListener("change", () => void updateCode());
    clear(formHost, form.element);
    versionOut.textContent = `version ${t.version.slice(0, 12)}`;
    runView.reset();
    void updateCode();
  }

  function openPrediction(p: Prediction, run: boolean): void {
    const match = targets.find((t) => t.version === p.version);
    if (match && match !== target) {
      modelSelect.value = String(targets.indexOf(match));
      selectTarget(match);
    }
    form.fill(p.input ?? {});
    void updateCode();
    panels.select("output");
    if (run) void runNow();
    else {
      runView.reset();
      runView.show(p, outputShape(target.openapi).concatenate, true);
      form.element.querySelector<HTMLElement>("input,textarea,select")?.focus();
      announce(`Opened prediction ${p.id}: its inputs are in the form`);
    }
  }

  async function runNow(): Promise<void> {
    if (handle) return;
    form.clearErrors();
    runButton.disabled = true;
    try {
      const c = await form.collect(resolverFor(target.base));
      if (Object.keys(c.errors).length > 0) {
        const byField: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(c.errors)) byField[k] = [v];
        form.showErrors({ byField, general: [] });
        return;
      }
      panels.select("output");
      const extra = inspector.requestFields() as Record<string, Json>;
      try {
        handle = await startRun(api, target, c.input, runView, extra);
      } catch (err) {
        if (err instanceof ApiError && err.status === 422) {
          form.showErrors(fieldErrors(fields, err.body));
          runView.fail("The server rejected some inputs: see the form.");
        } else runView.fail((err as Error).message);
        return;
      }
      cancelButton.disabled = false;
      announce("Prediction started");
      void history.load();
      const final = await handle.done;
      announce(`Prediction ${final.status}`);
      void history.load();
    } finally {
      handle = null;
      runButton.disabled = false;
      cancelButton.disabled = true;
    }
  }

  modelSelect.addEventListener("change", () => selectTarget(targets[Number(modelSelect.value)]!));
  runButton.addEventListener("click", () => void runNow());
  cancelButton.addEventListener("click", async () => {
    if (!handle) return;
    cancelButton.disabled = true;
    try {
      await handle.cancel();
      announce("Cancel requested");
    } catch (err) {
      runView.fail(`Cancel failed: ${(err as Error).message}`);
    }
  });
  resetButton.addEventListener("click", () => {
    form.reset();
    void updateCode();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void runNow();
    }
  });
  selectTarget(target);
  document.body.dataset.ready = "true";
}

void boot();
