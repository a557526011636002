/**
 * The hosted /v1 API's routes over the shared prediction core: a registry of /v1 predictions, the files
 * store, and a WebhookSender that signs (Standard Webhooks). `kiln serve` loads this module on the
 * first /v1 request (hosted.ts mounts the table and starts it); the fleet gateway registers the same
 * routes over its Redis store.
 */
import type { Handler } from "../http/router.js";
import { WebhookSender } from "../webhooks.js";
import type { PredictionQueue } from "../core/queue.js";
import type { HostedContext, RouteSink } from "./context.js";
import { DEFAULT_V1_FILE_LIMITS, FileStore } from "./files-store.js";
import { registerFileRoutes } from "./files-routes.js";
import { registerModelRoutes } from "./models-routes.js";
import { DEFAULT_PAGE_SIZE, DEFAULT_RETAIN } from "./options.js";
import { registerPredictionRoutes } from "./predictions-routes.js";
import { HostedRegistry } from "./registry.js";
import { registerTrainingRoutes } from "./trainings-routes.js";
import { MemoryStore } from "./memory-store.js";
import { webhookSigner } from "./signing.js";
import { DEFAULT_SSE_LIMITS } from "../sse.js";
import { DEFAULT_WEBHOOK_DRAIN_MS, V1_ROUTES, routeKey, type HostedDeps } from "./hosted.js";

/** The /v1 routes over any PredictionStore: `kiln serve` (memory) and `kiln gateway` (Redis) both call this. */
export function registerHostedRoutes(router: RouteSink, ctx: HostedContext): void {
  registerPredictionRoutes(router, ctx);
  registerTrainingRoutes(router, ctx);
  registerFileRoutes(router, ctx);
  registerModelRoutes(router, ctx);
}

/** What hosted.ts mounted and the first /v1 request made. */
export interface HostedStart extends HostedDeps {
  queue: PredictionQueue;
  model: string;
  version: string;
  versionCreatedAt: string;
  webhookSecret: string;
  port: number;
}

export interface LoadedHostedApi {
  /** Every route of V1_ROUTES by routeKey(). */
  routes: Map<string, Handler>;
  files: FileStore;
  dispose(webhookDrainMs?: number): Promise<void>;
}

/** The /v1 API of `kiln serve` behind hosted.ts's table: its store, files and routes. */
export function startHostedApi(deps: HostedStart): LoadedHostedApi {
  const o = deps.options;
  const sender = new WebhookSender({
    logger: deps.logger,
    retryDelaysMs: deps.webhookRetryDelaysMs,
    headers: webhookSigner(deps.webhookSecret),
  });
  const files = new FileStore({ ...DEFAULT_V1_FILE_LIMITS, ...o.fileLimits });
  files.port = deps.port;
  const store = new MemoryStore({
    runner: deps.runner,
    health: deps.health,
    queue: deps.queue,
    registry: new HostedRegistry(o.retain ?? DEFAULT_RETAIN, o.retainBytes),
    files,
    sender,
    throttleMs: deps.throttleMs,
    openapi: deps.openapi,
    model: deps.model,
    version: deps.version,
    versionCreatedAt: deps.versionCreatedAt,
    cogVersion: deps.cogVersion,
  });
  const routes = new Map<string, Handler>();
  const extra: string[] = [];
  registerHostedRoutes(
    {
      add(method, pattern, handler, options = {}) {
        const key = routeKey(method, pattern);
        const listed = V1_ROUTES.find((r) => routeKey(r.method, r.pattern) === key);
        if (!listed || (listed.public === true) !== (options.public === true)) extra.push(key);
        routes.set(key, handler);
      },
    },
    {
      store,
      files,
      webhookSecret: deps.webhookSecret,
      bodyLimit: deps.bodyLimit,
      pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
      sse: deps.sse ?? DEFAULT_SSE_LIMITS,
    },
  );
  const missing = V1_ROUTES.map((r) => routeKey(r.method, r.pattern)).filter((k) => !routes.has(k));
  // A route added here but not to V1_ROUTES (or the other way round) would be unreachable: say so.
  if (extra.length > 0 || missing.length > 0) {
    throw new Error(
      `V1_ROUTES (v1/hosted.ts) and the /v1 routes differ: not listed or listed differently: [${extra.join(", ")}], not registered: [${missing.join(", ")}]`,
    );
  }
  return {
    routes,
    files,
    async dispose(webhookDrainMs = DEFAULT_WEBHOOK_DRAIN_MS) {
      await sender.close(webhookDrainMs);
      await files.dispose();
    },
  };
}
