/**
 * A tiny method+path router over node:http. Patterns use `:param` segments. A known path with the wrong
 * method gets 405 with `Allow`; an unknown path 404. Handlers may throw HttpError; anything else is a
 * plain 500 (logged, internals never leak). The /v1 facade adds its routes to the same router.
 * A guard (the API token check) runs before every route except those added as `public`, and before
 * 404/405 answers too, so an unauthenticated client learns nothing about the routes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, sendJson } from "./respond.js";
import type { Logger } from "../logger.js";

export type Params = Record<string, string>;
/** `url()`: the request's URL, parsed on first call (most routes never need more than the path). */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: () => URL) => unknown;
/** Throws an HttpError (401) when the request may not proceed. */
export type Guard = (req: IncomingMessage) => void;

export interface RouteOptions {
  /** Reachable without the API token (health for orchestrators, unguessable stream URLs). */
  public?: boolean;
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
  public: boolean;
}

export class Router {
  private readonly routes: Route[] = [];
  // The same routes by segment count (in the order added): a path only ever matches its own bucket.
  private readonly bySegments = new Map<number, Route[]>();
  private guard: Guard = () => undefined;

  constructor(private readonly logger: Logger) {}

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    const route = { method, pattern, segments: split(pattern), handler, public: options.public === true };
    this.routes.push(route);
    const bucket = this.bySegments.get(route.segments.length);
    if (bucket) bucket.push(route);
    else this.bySegments.set(route.segments.length, [route]);
    return this;
  }

  /** Sets the check every non-public route passes first. */
  setGuard(guard: Guard): void {
    this.guard = guard;
  }

  /** "METHOD pattern" of the routes reachable without the token (documented in docs/server.md). */
  publicRoutes(): string[] {
    return this.routes.filter((r) => r.public).map((r) => `${r.method} ${r.pattern}`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const raw = req.url ?? "/";
      let parsed: URL | null = null;
      const parse = (): URL => {
        if (parsed) return parsed;
        try {
          // Origin-form ("/path") is joined textually: new URL("//x", base) would read "x" as a host.
          return (parsed = new URL(raw.startsWith("/") ? `http://localhost${raw}` : raw));
        } catch {
          throw new HttpError(400, { detail: "malformed request URL" });
        }
      };
      const path = split(plainPath(raw) ?? parse().pathname);
      let allowed: Set<string> | null = null;
      for (const route of this.bySegments.get(path.length) ?? []) {
        const params = match(route.segments, path);
        if (!params) continue;
        const method = req.method === "HEAD" && route.method === "GET" ? "GET" : req.method;
        if (route.method === method) {
          if (!route.public) this.guard(req);
          await route.handler(req, res, params, parse);
          return;
        }
        allowed ??= new Set<string>();
        allowed.add(route.method);
        if (route.method === "GET") allowed.add("HEAD");
      }
      this.guard(req);
      if (allowed) {
        throw new HttpError(405, { detail: "Method Not Allowed" }, { allow: [...allowed].join(", ") });
      }
      throw new HttpError(404, { detail: "Not Found" });
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, err.body, err.headers);
        return;
      }
      this.logger.error("unhandled error in request handler", { method: req.method, url: req.url, err });
      if (!res.headersSent) sendJson(res, 500, { detail: "Internal Server Error" });
      else res.destroy();
    }
  }
}

// A path URL parsing leaves as it is: no dot segments, escapes, backslashes or characters it would
// percent-encode. Most request targets are one; anything else is parsed as a URL.
const PLAIN_PATH = /^\/[A-Za-z0-9_~!$&'()*+,;=:@/-]*$/;

/** The path of an origin-form request target when it needs no URL parsing, else null. */
export function plainPath(target: string): string | null {
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  return PLAIN_PATH.test(path) ? path : null;
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

function match(pattern: string[], path: string[]): Params | null {
  if (pattern.length !== path.length) return null;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = path[i]!;
    if (p.startsWith(":")) {
      let value: string;
      try {
        value = decodeURIComponent(s);
      } catch {
        return null;
      }
      params[p.slice(1)] = value;
    } else if (p !== s) return null;
  }
  return params;
}
