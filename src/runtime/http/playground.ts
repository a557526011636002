/**
 * GET /playground: the browser playground, a static page built by scripts/build-playground.mjs into
 * playground/ beside the runtime bundle (/kiln/playground in images). It holds no data and calls the
 * public /v1 API like any client, so it needs no token itself (the page asks for one when /v1 does).
 * Served with a strict CSP (no third-party code can run), gzip when accepted, ETag revalidation. zlib
 * and crypto load with the first request for it (lazy-builtins.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { nodeCrypto, nodeZlib } from "../lazy-builtins.js";
import { failure } from "./respond.js";
import type { Router } from "./router.js";

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

// Scripts and styles only from this origin; the API, media and files may be on other kiln servers
// (compare), data: and blob: URIs are previews of outputs and picked files.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src * data: blob:",
  "media-src * data: blob:",
  "connect-src *",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Where the built page is: the given directory (only that one), else KILN_PLAYGROUND_DIR, beside the
 * bundle (images), or dist/runtime-bundle (running from src/ or dist/).
 */
function findPlaygroundDir(override?: string): string | null {
  const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
  const candidates = override
    ? [override]
    : [
        process.env.KILN_PLAYGROUND_DIR,
        here("./playground/"), // bundled: server.mjs and playground/ side by side
        here("../../runtime-bundle/playground/"), // dist/runtime/http/playground.js
        here("../../../dist/runtime-bundle/playground/"), // src/runtime/http/playground.ts
      ];
  return candidates.find((c) => c !== undefined && existsSync(`${c}/index.html`)) ?? null;
}

export function registerPlayground(router: Router, opts: { dir?: string | undefined } = {}): void {
  const cache = new Map<string, Asset>();
  const load = (name: string): Asset => {
    const hit = cache.get(name);
    if (hit) return hit;
    const dir = findPlaygroundDir(opts.dir);
    if (!dir)
      throw failure(
        503,
        "the playground page is not built into this kiln (run `npm run build` in the kiln checkout)",
      );
    const body = readFileSync(`${dir}/${name}`);
    const asset = {
      type: FILES[name]!,
      body,
      gzip: nodeZlib().gzipSync(body),
      etag: `"${nodeCrypto().createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    };
    cache.set(name, asset);
    return asset;
  };
  const serve = (req: IncomingMessage, res: ServerResponse, name: string): void => {
    const a = load(name);
    const headers: Record<string, string | number> = {
      "content-type": a.type,
      etag: a.etag,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      vary: "accept-encoding",
    };
    if (name === "index.html") {
      headers["content-security-policy"] = CSP;
      headers["referrer-policy"] = "no-referrer";
    }
    if (req.headers["if-none-match"] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? a.gzip : a.body;
    if (gzip) headers["content-encoding"] = "gzip";
    headers["content-length"] = body.length;
    res.writeHead(200, headers);
    res.end(body);
  };
  // Public: a browser navigation cannot send the token; the page holds no data and asks for it.
  router.add("GET", "/playground", (req, res) => serve(req, res, "index.html"), { public: true });
  router.add(
    "GET",
    "/playground/:file",
    (req, res, params) => {
      const name = params.file!;
      if (!(name in FILES)) throw failure(404, `no playground file ${name}`);
      serve(req, res, name);
    },
    { public: true },
  );
}
