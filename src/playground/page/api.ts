/**
 * The playground's only way to the model: the public hosted API (/v1) of a kiln server or gateway,
 * the same routes the `replicate` client uses. One base URL per server; a token when it wants one.
 */
import type { Json } from "./fields.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** What a model (version) on a server is: where to send predictions and what its inputs are. */
export interface Target {
  base: string;
  model: string;
  version: string;
  openapi: unknown;
  /** Shown in pickers and column headers. */
  label: string;
}

export interface Prediction {
  id: string;
  model?: string;
  version?: string;
  input: Record<string, Json>;
  output: Json;
  logs: string | null;
  error: string | null;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled";
  created_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  metrics?: Record<string, Json>;
  urls?: { get: string; cancel: string; stream?: string };
}

export const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

type TokenSource = (base: string, reason: string) => Promise<string | null>;

function errorText(status: number, body: unknown): string {
  if (typeof body === "object" && body !== null) {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === "string") return b.detail;
    if (typeof b.error === "string") return b.error;
    if (typeof b.title === "string") return b.title;
  }
  return `HTTP ${status}`;
}

export class Api {
  /** Tokens by base URL, kept for this tab only (sessionStorage), never in the page URL. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly askToken: TokenSource) {}

  tokenFor(base: string): string | null {
    if (!this.tokens.has(base)) {
      const saved = sessionStorage.getItem(`kiln-token:${base}`);
      if (saved) this.tokens.set(base, saved);
    }
    return this.tokens.get(base) ?? null;
  }

  setToken(base: string, token: string): void {
    this.tokens.set(base, token);
    sessionStorage.setItem(`kiln-token:${base}`, token);
  }

  /** JSON request to BASE+path; a 401 asks for the token once and retries. */
  async request<T>(base: string, path: string, init: RequestInit = {}, retried = false): Promise<T> {
    const headers = new Headers(init.headers);
    const token = this.tokenFor(base);
    if (token) headers.set("authorization", `Bearer ${token}`);
    if (typeof init.body === "string") headers.set("content-type", "application/json");
    let res: Response;
    try {
      res = await fetch(path.startsWith("http") ? path : `${base}${path}`, { ...init, headers });
    } catch (err) {
      throw new ApiError(
        0,
        null,
        `cannot reach ${base}: ${(err as Error).message} (is it running, and does it allow this page's origin? see docs/playground.md)`,
      );
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (res.status === 401 && !retried) {
      const given = await this.askToken(
        base,
        token ? "The token was not accepted." : "This server wants an API token.",
      );
      if (given) {
        this.setToken(base, given);
        return this.request<T>(base, path, init, true);
      }
    }
    if (!res.ok) throw new ApiError(res.status, body, errorText(res.status, body));
    return body as T;
  }

  /** The models a server runs: GET /v1/models (a gateway lists several), each with its latest version. */
  async targets(base: string): Promise<Target[]> {
    const host = new URL(base).host;
    let models: Record<string, unknown>[];
    try {
      const page = await this.request<{ results?: Record<string, unknown>[] }>(base, "/v1/models");
      models = Array.isArray(page.results) ? page.results : [];
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
      // A server without the list: any owner/name reaches its one model.
      models = [await this.request<Record<string, unknown>>(base, "/v1/models/kiln/model")];
    }
    return models.flatMap((m) => {
      const v = m.latest_version as Record<string, unknown> | null | undefined;
      if (!v || typeof v.id !== "string") return [];
      const model = `${String(m.owner)}/${String(m.name)}`;
      return [{ base, model, version: v.id, openapi: v.openapi_schema, label: `${model} @ ${host}` }];
    });
  }

  create(t: Target, input: Record<string, Json>, extra: Record<string, Json> = {}): Promise<Prediction> {
    return this.request<Prediction>(t.base, "/v1/predictions", {
      method: "POST",
      body: JSON.stringify({ version: t.version, input, ...extra }),
    });
  }

  get(base: string, id: string): Promise<Prediction> {
    return this.request<Prediction>(base, `/v1/predictions/${encodeURIComponent(id)}`);
  }

  cancel(base: string, id: string): Promise<Prediction> {
    return this.request<Prediction>(base, `/v1/predictions/${encodeURIComponent(id)}/cancel`, {
      method: "POST",
    });
  }

  list(base: string, url?: string): Promise<{ results: Prediction[]; next: string | null }> {
    return this.request(base, url ?? "/v1/predictions");
  }

  /** POST /v1/files; the returned URL is a valid file input on that server. */
  async upload(base: string, file: File): Promise<string> {
    const form = new FormData();
    form.append("content", file, file.name);
    const headers: Record<string, string> = {};
    const token = this.tokenFor(base);
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${base}/v1/files`, { method: "POST", body: form, headers });
    const body = (await res.json().catch(() => null)) as { urls?: { get?: string } } | null;
    if (!res.ok || !body?.urls?.get) throw new ApiError(res.status, body, errorText(res.status, body));
    return body.urls.get;
  }
}
