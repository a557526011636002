/**
 * Mounts the hosted /v1 API (Replicate-compatible) on the server's router, on top of the shared
 * prediction core: a bounded queue in front of the runner's slots, a registry of /v1 predictions, the
 * files store, and a WebhookSender that signs (Standard Webhooks).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { PredictionRunner } from "../core/runner.js";
import { PredictionQueue } from "../core/queue.js";
import type { Health } from "../health.js";
import type { Logger } from "../logger.js";
import type { Router } from "../http/router.js";
import { WebhookSender } from "../webhooks.js";
import { makeAuthCheck } from "./auth.js";
import type { HostedContext } from "./context.js";
import { DEFAULT_V1_FILE_LIMITS, FileStore } from "./files-store.js";
import { registerFileRoutes } from "./files-routes.js";
import { registerModelRoutes } from "./models-routes.js";
import { DEFAULT_PAGE_SIZE, DEFAULT_QUEUE_SIZE, DEFAULT_RETAIN, type HostedOptions } from "./options.js";
import { registerPredictionRoutes } from "./predictions-routes.js";
import { HostedRegistry } from "./registry.js";
import { registerTrainingRoutes } from "./trainings-routes.js";
import { MemoryStore } from "./memory-store.js";
import { generateWebhookSecret, webhookSigner } from "./signing.js";
import { DEFAULT_SSE_LIMITS, type SseLimits } from "../sse.js";

export interface HostedDeps {
  runner: PredictionRunner;
  health: Health;
  files: FileStore;
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
  webhookSecret: string;
  version: string;
  /** `owner/name` of the model served here (KILN_MODEL, or kiln/<project dir>). */
  model: string;
  queue: PredictionQueue;
  /** Fails what is queued, delivers webhooks for at most `webhookDrainMs`, removes uploaded files. */
  dispose(webhookDrainMs?: number): Promise<void>;
}

/** How long shutdown keeps delivering (and retrying) webhooks before abandoning them. */
export const DEFAULT_WEBHOOK_DRAIN_MS = 5_000;

export function createFileStore(options: HostedOptions): FileStore {
  return new FileStore({ ...DEFAULT_V1_FILE_LIMITS, ...options.fileLimits });
}

/**
 * Without an image digest: a content hash of the predictor program and cog.yaml (stable across restarts
 * of the same code; the CLI may pass a hash of the whole project as `version` instead).
 */
export function defaultVersion(root: string, predictorFile: string): string {
  const h = createHash("sha256");
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

/** The /v1 routes over any PredictionStore: `kiln serve` (memory) and `kiln gateway` (Redis) both call this. */
export function registerHostedRoutes(router: Router, ctx: HostedContext): void {
  registerPredictionRoutes(router, ctx);
  registerTrainingRoutes(router, ctx);
  registerFileRoutes(router, ctx);
  registerModelRoutes(router, ctx);
}

export function registerHostedApi(router: Router, deps: HostedDeps): HostedApi {
  const o = deps.options;
  const webhookSecret = o.webhookSecret ?? generateWebhookSecret();
  const sender = new WebhookSender({
    logger: deps.logger,
    retryDelaysMs: deps.webhookRetryDelaysMs,
    headers: webhookSigner(webhookSecret),
  });
  const queue = new PredictionQueue({
    runner: deps.runner,
    maxSize: o.queueSize ?? DEFAULT_QUEUE_SIZE,
    canStart: () => deps.health.ready,
  });
  deps.health.on("ready", () => queue.pump());
  deps.health.on("failed", (error) => queue.failAll(`setup failed: ${error}`));
  deps.health.on("defunct", (why) => queue.failAll(`the predictor worker is gone: ${why}`));
  const version = o.version ?? defaultVersion(deps.root, deps.predictorFile);
  const model = o.model ?? `kiln/${basename(resolve(deps.root)) || "model"}`;
  const store = new MemoryStore({
    runner: deps.runner,
    health: deps.health,
    queue,
    registry: new HostedRegistry(o.retain ?? DEFAULT_RETAIN, o.retainBytes),
    files: deps.files,
    sender,
    throttleMs: deps.throttleMs,
    openapi: deps.openapi,
    model,
    version,
    versionCreatedAt: new Date().toISOString(),
    cogVersion: deps.cogVersion,
  });
  registerHostedRoutes(router, {
    store,
    files: deps.files,
    webhookSecret,
    bodyLimit: deps.bodyLimit,
    pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
    sse: deps.sse ?? DEFAULT_SSE_LIMITS,
  });
  // One token for the whole server (container API and /shutdown included), not only /v1.
  router.setGuard(makeAuthCheck(o.apiToken));
  return {
    webhookSecret,
    version,
    model,
    queue,
    async dispose(webhookDrainMs = DEFAULT_WEBHOOK_DRAIN_MS) {
      queue.failAll("the server is shutting down");
      await sender.close(webhookDrainMs);
      await deps.files.dispose();
    },
  };
}
