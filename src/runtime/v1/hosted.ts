/**
 * The hosted /v1 API (Replicate-compatible) as the server mounts it. What every start needs is set up
 * at once: the routes' table (so 404/405 answers and the token guard are as before), the token guard,
 * the bounded queue in front of the runner's slots (health and metrics read it), the model's name.
 * The rest (the routes, the /v1 registry and store, the files store, the signing webhook sender:
 * api.ts and what it imports, a chunk of its own in the bundle) loads on the first /v1 request, so a
 * server that only answers the container API never reads, compiles or keeps it. The webhook secret
 * (when none is configured) and the default version id (a hash of the predictor and cog.yaml) are
 * made on first use too.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, resolve } from "node:path";
import { PredictionQueue } from "../core/queue.js";
import type { PredictionRunner } from "../core/runner.js";
import type { Health } from "../health.js";
import type { Params, Router } from "../http/router.js";
import type { Logger } from "../logger.js";
import { nodeCrypto } from "../lazy-builtins.js";
import type { SseLimits } from "../sse.js";
import type { LoadedHostedApi } from "./api.js";
import { makeAuthCheck } from "./auth.js";
import { DEFAULT_QUEUE_SIZE, type HostedOptions } from "./options.js";
import { generateWebhookSecret, secretKey } from "./signing.js";

/** Every /v1 route of `kiln serve` (api.ts registers exactly these; a test keeps both in step). */
export const V1_ROUTES: readonly { method: string; pattern: string; public?: true }[] = [
  { method: "POST", pattern: "/v1/predictions" },
  { method: "POST", pattern: "/v1/models/:owner/:name/predictions" },
  { method: "POST", pattern: "/v1/deployments/:owner/:name/predictions" },
  { method: "GET", pattern: "/v1/predictions" },
  { method: "GET", pattern: "/v1/predictions/:id" },
  { method: "POST", pattern: "/v1/predictions/:id/cancel" },
  // Stream URLs are unguessable and handed out to browsers (EventSource sends no token).
  { method: "GET", pattern: "/v1/predictions/:id/stream", public: true },
  { method: "POST", pattern: "/v1/models/:owner/:name/versions/:version/trainings" },
  { method: "GET", pattern: "/v1/trainings" },
  { method: "GET", pattern: "/v1/trainings/:id" },
  { method: "POST", pattern: "/v1/trainings/:id/cancel" },
  { method: "POST", pattern: "/v1/files" },
  { method: "GET", pattern: "/v1/files" },
  { method: "GET", pattern: "/v1/files/:id" },
  { method: "GET", pattern: "/v1/files/:id/download" },
  { method: "DELETE", pattern: "/v1/files/:id" },
  { method: "GET", pattern: "/v1/models" },
  { method: "GET", pattern: "/v1/models/:owner/:name" },
  { method: "GET", pattern: "/v1/models/:owner/:name/versions" },
  { method: "GET", pattern: "/v1/models/:owner/:name/versions/:id" },
  { method: "GET", pattern: "/v1/webhooks/default/secret" },
  { method: "GET", pattern: "/v1/account" },
];

/** The key of a route in V1_ROUTES and in the loaded table. */
export const routeKey = (method: string, pattern: string): string => `${method} ${pattern}`;

export interface HostedDeps {
  runner: PredictionRunner;
  health: Health;
  logger: Logger;
  throttleMs: number;
  bodyLimit: number;
  openapi: () => unknown;
  cogVersion: string;
  root: string;
  /** The predictor file, hashed into the default version id. */
  predictorFile: string;
  webhookRetryDelaysMs?: readonly number[] | undefined;
  options: HostedOptions;
  sse?: SseLimits | undefined;
}

export interface HostedApi {
  /** The `whsec_` secret /v1 webhooks are signed with (KILN_WEBHOOK_SECRET, or made once per server). */
  readonly webhookSecret: string;
  /** The version id: configured, or a hash of the predictor and cog.yaml (made on first use). */
  readonly version: string;
  /** `owner/name` of the model served here (KILN_MODEL, or kiln/<project dir>). */
  readonly model: string;
  readonly queue: PredictionQueue;
  /** The port the server listens on (/v1 file URLs and webhooks pointing at this server use it). */
  port: number;
  /** A /v1/files URL of this server -> the uploaded file (null: not one, or no such upload). */
  resolveFile(url: string): { path: string; name: string } | null;
  /** Fails what is queued, delivers webhooks for at most `webhookDrainMs`, removes uploaded files. */
  dispose(webhookDrainMs?: number): Promise<void>;
}

/** How long shutdown keeps delivering (and retrying) webhooks before abandoning them. */
export const DEFAULT_WEBHOOK_DRAIN_MS = 5_000;

/**
 * Without an image digest: a content hash of the predictor program and cog.yaml (stable across restarts
 * of the same code; the CLI may pass a hash of the whole project as `version` instead).
 */
export function defaultVersion(root: string, predictorFile: string): string {
  const h = nodeCrypto().createHash("sha256");
  for (const file of [predictorFile, "cog.yaml"]) {
    h.update(`${file}\0`);
    try {
      h.update(readFileSync(resolve(root, file)));
    } catch {
      h.update("(missing)\0");
    }
  }
  return h.digest("hex");
}

/** Mounts /v1 on `router`: the table and guard now, the routes behind it on the first /v1 request. */
export function mountHostedApi(router: Router, deps: HostedDeps): HostedApi {
  const o = deps.options;
  // A malformed configured secret fails the start, not the first webhook.
  if (o.webhookSecret !== undefined) secretKey(o.webhookSecret);
  let webhookSecret = o.webhookSecret;
  let version = o.version;
  const versionCreatedAt = new Date().toISOString();
  const queue = new PredictionQueue({
    runner: deps.runner,
    maxSize: o.queueSize ?? DEFAULT_QUEUE_SIZE,
    canStart: () => deps.health.ready,
  });
  deps.health.on("ready", () => queue.pump());
  deps.health.on("failed", (error) => queue.failAll(`setup failed: ${error}`));
  deps.health.on("defunct", (why) => queue.failAll(`the predictor worker is gone: ${why}`));
  let port = 0;
  let loaded: LoadedHostedApi | null = null;
  let loading: Promise<LoadedHostedApi> | null = null;

  const api: HostedApi = {
    get webhookSecret() {
      return (webhookSecret ??= generateWebhookSecret());
    },
    get version() {
      return (version ??= defaultVersion(deps.root, deps.predictorFile));
    },
    model: o.model ?? `kiln/${basename(resolve(deps.root)) || "model"}`,
    queue,
    get port() {
      return port;
    },
    set port(p: number) {
      port = p;
      if (loaded) loaded.files.port = p;
    },
    // No upload before /v1 loaded: nothing to find.
    resolveFile: (url) => loaded?.files.resolve(url) ?? null,
    async dispose(webhookDrainMs = DEFAULT_WEBHOOK_DRAIN_MS) {
      queue.failAll("the server is shutting down");
      const l = loaded ?? (loading ? await loading.catch(() => null) : null);
      await l?.dispose(webhookDrainMs);
    },
  };

  const load = (): Promise<LoadedHostedApi> =>
    (loading ??= import("./api.js").then((m) => {
      loaded = m.startHostedApi({
        ...deps,
        queue,
        model: api.model,
        version: api.version,
        versionCreatedAt,
        webhookSecret: api.webhookSecret,
        port,
      });
      return loaded;
    }));

  for (const r of V1_ROUTES) {
    const key = routeKey(r.method, r.pattern);
    const handler = async (req: IncomingMessage, res: ServerResponse, params: Params, url: () => URL) => {
      const routes = loaded?.routes ?? (await load()).routes;
      const h = routes.get(key);
      if (!h) throw new Error(`the /v1 API has no handler for ${key}`);
      return h(req, res, params, url);
    };
    router.add(r.method, r.pattern, handler, r.public ? { public: true } : {});
  }
  // One token for the whole server (container API and /shutdown included), not only /v1.
  router.setGuard(makeAuthCheck(o.apiToken));
  return api;
}
