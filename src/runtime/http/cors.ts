/**
 * CORS, so a playground page served by one kiln server can call another (compare across `kiln serve`
 * URLs). Allowed by default: pages from loopback origins (http://127.0.0.1:*, http://localhost:*,
 * http://[::1]:*), which only this machine can serve. KILN_CORS_ORIGINS adds origins (comma separated)
 * or `*` for any. Other origins get no CORS headers, so browsers keep them out as before.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const LOOPBACK = /^https?:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/i;

export interface CorsPolicy {
  allows(origin: string): boolean;
}

export function corsPolicy(extra: string | undefined): CorsPolicy {
  const list = (extra ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  const any = list.includes("*");
  const set = new Set(list.map((s) => s.toLowerCase()));
  return { allows: (origin) => any || LOOPBACK.test(origin) || set.has(origin.toLowerCase()) };
}

/**
 * Adds the CORS headers for an allowed Origin. Answers a preflight (OPTIONS with
 * Access-Control-Request-Method) itself and returns true; otherwise the request goes on to the router.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string" || !policy.allows(origin)) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", "location, retry-after");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    res.writeHead(204, {
      "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
      "access-control-allow-headers": "authorization, content-type, prefer, last-event-id",
      "access-control-max-age": "600",
      // Chrome's Private Network Access preflight: loopback pages calling loopback servers.
      ...(req.headers["access-control-request-private-network"]
        ? { "access-control-allow-private-network": "true" }
        : {}),
      "content-length": 0,
    });
    res.end();
    return true;
  }
  return false;
}
