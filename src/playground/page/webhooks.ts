/**
 * The webhook inspector: a receiver URL (the one `kiln playground` starts, or any compatible one) with
 * a private bin for this page; predictions run with "send webhooks here" post to it, and every delivery
 * shows up with its headers, its body and whether its Standard Webhooks signature checks out.
 */
import type { Api } from "./api.js";
import { announce, h, uid } from "./dom.js";

interface Delivery {
  seq: number;
  received_at: string;
  headers: Record<string, string>;
  body: string;
}

const EVENTS = ["start", "output", "logs", "completed"] as const;

function randomBin(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Checks `webhook-signature` (v1,<base64 HMAC-SHA256 of "id.timestamp.body">) with the whsec_ key. */
async function verify(d: Delivery, secret: string | null): Promise<string> {
  const sig = d.headers["webhook-signature"];
  if (!sig) return d.headers.authorization ? "unsigned (bearer token sent)" : "unsigned";
  if (!secret) return "signed (secret unknown)";
  if (!crypto.subtle) return "signed (cannot verify outside a secure context)";
  const key = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign(
    "HMAC",
    k,
    new TextEncoder().encode(`${d.headers["webhook-id"]}.${d.headers["webhook-timestamp"]}.${d.body}`),
  );
  const expected = btoa(String.fromCharCode(...new Uint8Array(mac)));
  const given = sig.split(" ").map((s) => s.replace(/^v1,/, ""));
  return given.includes(expected) ? "signature valid" : "signature INVALID";
}

export class WebhookInspector {
  readonly element: HTMLElement;
  readonly bin = randomBin();
  private receiver: string | null;
  private source: EventSource | null = null;
  private readonly list: HTMLElement;
  private readonly urlOut: HTMLElement;
  private readonly state: HTMLElement;
  private readonly enabled: HTMLInputElement;
  private readonly filters = new Map<string, HTMLInputElement>();
  private secret: string | null = null;

  constructor(
    private readonly api: Api,
    private readonly base: () => string,
    receiver: string | null,
  ) {
    this.receiver = receiver;
    const inputId = uid("receiver");
    const field = h("input", {
      type: "url",
      id: inputId,
      class: "grow",
      value: receiver ?? "",
      placeholder: "http://127.0.0.1:PORT (kiln playground prints it)",
    });
    const connect = h("button", { type: "button", class: "small" }, "Connect");
    connect.addEventListener("click", () => this.connect(field.value.trim().replace(/\/+$/, "") || null));
    this.urlOut = h("code", { class: "mono webhook-url" });
    this.state = h("p", { class: "muted", role: "status" });
    this.list = h("ol", { class: "deliveries", "aria-label": "Webhook deliveries", reversed: true });
    const enableId = uid("wh");
    this.enabled = h("input", { type: "checkbox", id: enableId });
    const filterBoxes = EVENTS.map((e) => {
      const id = uid(`wh-${e}`);
      const box = h("input", { type: "checkbox", id, checked: true });
      this.filters.set(e, box);
      return h("span", { class: "check" }, box, h("label", { for: id }, e));
    });
    this.element = h(
      "div",
      { class: "webhooks" },
      h("div", { class: "row" }, h("label", { for: inputId }, "Receiver"), field, connect),
      h("p", {}, "Webhook URL for this page: ", this.urlOut),
      h(
        "div",
        { class: "check" },
        this.enabled,
        h("label", { for: enableId }, "Send the next runs' webhooks here"),
      ),
      h("fieldset", { class: "inline" }, h("legend", {}, "Events"), ...filterBoxes),
      this.state,
      this.list,
    );
    this.connect(receiver);
  }

  /** The webhook fields to add to a prediction request, when enabled. */
  requestFields(): Record<string, string | string[]> {
    const url = this.url();
    if (!this.enabled.checked || !url) return {};
    void this.loadSecret();
    return { webhook: url, webhook_events_filter: EVENTS.filter((e) => this.filters.get(e)!.checked) };
  }

  private url(): string | null {
    return this.receiver ? `${this.receiver}/hooks/${this.bin}` : null;
  }

  private async loadSecret(): Promise<void> {
    if (this.secret) return;
    try {
      const r = await this.api.request<{ key?: string }>(this.base(), "/v1/webhooks/default/secret");
      this.secret = r.key ?? null;
    } catch {
      this.secret = null;
    }
  }

  private connect(receiver: string | null): void {
    this.source?.close();
    this.receiver = receiver;
    this.list.replaceChildren();
    const url = this.url();
    this.urlOut.textContent =
      url ?? "(no receiver: start the page with `kiln playground`, or enter a receiver URL)";
    this.enabled.disabled = !url;
    if (!url) return;
    this.enabled.checked = true;
    this.state.textContent = "Waiting for webhooks…";
    this.source = new EventSource(`${url}/events`);
    this.source.addEventListener(
      "delivery",
      (e) => void this.show(JSON.parse((e as MessageEvent<string>).data) as Delivery),
    );
    this.source.addEventListener("error", () => {
      if (this.source?.readyState === EventSource.CLOSED)
        this.state.textContent = `Lost the receiver at ${this.receiver}.`;
    });
  }

  private async show(d: Delivery): Promise<void> {
    await this.loadSecret();
    let body: unknown = d.body;
    try {
      body = JSON.parse(d.body);
    } catch {
      /* not JSON: shown as text */
    }
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const check = await verify(d, this.secret);
    const headers = Object.entries(d.headers)
      .filter(([k]) => /^(webhook-|authorization|content-type|user-agent)/.test(k))
      .map(([k, v]) => `${k}: ${k === "authorization" ? v.replace(/(\S+\s+).*/, "$1…") : v}`)
      .join("\n");
    const item = h(
      "li",
      { class: "delivery", "data-status": String(b.status ?? "") },
      h(
        "details",
        {},
        h(
          "summary",
          {},
          h("span", { class: `status status-${String(b.status ?? "idle")}` }, String(b.status ?? "?")),
          ` #${d.seq} ${new Date(d.received_at).toLocaleTimeString()} · ${String(b.id ?? "")} · `,
          h("span", { class: check.includes("INVALID") ? "bad" : "muted" }, check),
        ),
        h("pre", { class: "mono" }, headers),
        h("pre", { class: "mono" }, typeof body === "string" ? body : JSON.stringify(body, null, 2)),
      ),
    );
    this.list.prepend(item);
    this.state.textContent = `${this.list.children.length} deliveries received.`;
    announce(`Webhook received: ${String(b.status ?? "")}`);
  }
}
