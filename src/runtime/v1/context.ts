/** What every /v1 route needs, plus the small request helpers they share. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PredictionStore } from "../core/store.js";
import type { Handler, Params, RouteOptions } from "../http/router.js";
import type { HostedFiles } from "./files-store.js";
import type { SseLimits } from "../sse.js";
import { asHosted } from "./errors.js";

export interface HostedContext {
  /** Where predictions are prepared, queued and looked up: in memory (kiln serve) or Redis (the fleet). */
  store: PredictionStore;
  files: HostedFiles;
  webhookSecret: string;
  bodyLimit: number;
  pageSize: number;
  sse: SseLimits;
}

/**
 * Where the /v1 routes are added: the server's Router (the fleet gateway), or the table the server's
 * lazily loaded /v1 API fills (hosted.ts).
 */
export interface RouteSink {
  add(method: string, pattern: string, handler: Handler, options?: RouteOptions): unknown;
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

type V1Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: () => URL) => unknown;

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
