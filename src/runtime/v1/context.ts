/** What every /v1 route needs, plus the small request helpers they share. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PredictionRunner } from "../core/runner.js";
import type { PredictionQueue } from "../core/queue.js";
import type { Health } from "../health.js";
import type { WebhookSender } from "../webhooks.js";
import type { Handler, Params } from "../http/router.js";
import type { FileStore } from "./files-store.js";
import type { HostedRegistry } from "./registry.js";
import type { SseLimits } from "../sse.js";
import { asHosted } from "./errors.js";

export interface HostedContext {
  runner: PredictionRunner;
  health: Health;
  queue: PredictionQueue;
  registry: HostedRegistry;
  files: FileStore;
  /** Signs with the webhook secret (Standard Webhooks). */
  sender: WebhookSender;
  webhookSecret: string;
  throttleMs: number;
  bodyLimit: number;
  openapi: () => unknown;
  model: string;
  version: string;
  versionCreatedAt: string;
  cogVersion: string;
  pageSize: number;
  sse: SseLimits;
}

/** The origin the client used to reach us, so the URLs we hand out work from where it is. */
export function baseUrl(req: IncomingMessage): string {
  const proto =
    String(req.headers["x-forwarded-proto"] ?? "")
      .split(",")[0]
      ?.trim() === "https"
      ? "https"
      : "http";
  return `${proto}://${req.headers.host ?? "127.0.0.1"}`;
}

type V1Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => unknown;

/** Wraps a /v1 handler so its errors render the hosted way (the token is checked by the router). */
export function route(_ctx: HostedContext, handler: V1Handler): Handler {
  return async (req, res, params, url) => {
    try {
      await handler(req, res, params, url);
    } catch (err) {
      throw asHosted(err);
    }
  };
}
