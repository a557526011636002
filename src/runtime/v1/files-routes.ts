/** /v1/files: multipart upload, get, list, download and delete (204), in the hosted API's shapes. */
import type { IncomingMessage } from "node:http";
import { sendJson } from "../http/respond.js";
import { StoreFullError, type FileInfo } from "./files-store.js";
import { readMultipart, type MultipartUpload } from "./multipart.js";
import { MAX_JSON_DEPTH, jsonDepth } from "../http/body.js";
import { hostedError, invalidInput, notFound } from "./errors.js";
import { baseUrl, route, type HostedContext, type RouteSink } from "./context.js";

// Room for the multipart framing and the metadata part on top of the file itself.
const FORM_OVERHEAD = 1024 * 1024;
// Metadata is rendered into every listing: keep it small and shallow.
const MAX_METADATA_BYTES = 64 * 1024;

/**
 * RFC 6266 Content-Disposition with an ASCII fallback `filename` and the exact UTF-8 name in
 * `filename*` (RFC 5987), so any stored name downloads (a raw non-Latin-1 header would throw).
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_") || "file";
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

function renderFile(f: FileInfo, base: string): Record<string, unknown> {
  const get = `${base}/v1/files/${f.id}`;
  return {
    id: f.id,
    name: f.name,
    content_type: f.contentType,
    size: f.size,
    checksums: { sha256: f.sha256 },
    metadata: f.metadata,
    created_at: f.createdAt.toISOString(),
    expires_at: f.expiresAt.toISOString(),
    urls: { get, download: `${get}/download` },
  };
}

/** A small part's text, whether the client sent it as a field or as a file part; null when absent. */
function formText(upload: MultipartUpload, name: string): string | null {
  const field = upload.fields.get(name);
  if (field !== undefined) return field;
  const file = upload.files.get(name);
  if (file === undefined) return null;
  if (file.size > MAX_METADATA_BYTES)
    throw hostedError(400, "Bad request", `${name} must be at most ${MAX_METADATA_BYTES} bytes`);
  return Buffer.concat(file.parts, file.size).toString("utf8");
}

function parseMetadata(text: string | null): Record<string, unknown> {
  if (text === null || text.trim() === "") return {};
  // Refused like an oversized or too-deep JSON body (400), before anything is stored.
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES)
    throw hostedError(400, "Bad request", `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`);
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw hostedError(400, "Bad request", `metadata is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidInput([
      { loc: ["body", "metadata"], msg: "metadata must be a JSON object", type: "dict_type" },
    ]);
  }
  return value as Record<string, unknown>;
}

/** The host name the client used (to recognise our own file URLs later); 400 when Host is malformed. */
function requestHost(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    throw hostedError(400, "Bad request", `malformed Host header ${JSON.stringify(host.slice(0, 100))}`);
  }
}

export function registerFileRoutes(router: RouteSink, ctx: HostedContext): void {
  router.add(
    "POST",
    "/v1/files",
    route(ctx, async (req, res) => {
      // Everything that can refuse the request does so before anything is stored.
      const host = requestHost(req);
      const upload = await readMultipart(req, ctx.files.limits.maxFileBytes + FORM_OVERHEAD);
      const content = upload.files.get("content");
      if (content === undefined) {
        throw invalidInput([
          { loc: ["body", "content"], msg: "a file part named `content` is required", type: "missing" },
        ]);
      }
      const metadata = parseMetadata(formText(upload, "metadata"));
      const filename = formText(upload, "filename");
      const type = formText(upload, "type");
      const name = filename || content.filename || "file";
      const contentType = type || content.type || "application/octet-stream";
      let file: FileInfo;
      try {
        file = await ctx.files.create(content, name, contentType, metadata);
      } catch (err) {
        if (err instanceof RangeError || err instanceof StoreFullError)
          throw hostedError(413, "Payload too large", err.message);
        throw err;
      }
      if (host) ctx.files.hosts.add(host);
      sendJson(res, 201, renderFile(file, baseUrl(req)));
    }),
  );
  router.add(
    "GET",
    "/v1/files",
    route(ctx, async (req, res, _p, url) => {
      const cursor = url().searchParams.get("cursor");
      if (cursor !== null && !/^\d+$/.test(cursor))
        throw hostedError(400, "Bad request", `invalid cursor ${JSON.stringify(cursor)}`);
      const page = await ctx.files.page(cursor === null ? null : Number(cursor), ctx.pageSize);
      const base = baseUrl(req);
      sendJson(res, 200, {
        results: page.items.map((f) => renderFile(f, base)),
        next: page.next === null ? null : `${base}/v1/files?cursor=${page.next}`,
        previous: null,
      });
    }),
  );
  router.add(
    "GET",
    "/v1/files/:id",
    route(ctx, async (req, res, p) => sendJson(res, 200, renderFile(await find(ctx, p.id!), baseUrl(req)))),
  );
  router.add(
    "GET",
    "/v1/files/:id/download",
    route(ctx, async (req, res, p) => {
      const f = await find(ctx, p.id!);
      const content = req.method === "HEAD" ? null : await ctx.files.open(f);
      res.writeHead(200, {
        "content-type": f.contentType,
        "content-length": f.size,
        "content-disposition": contentDisposition(f.name),
      });
      if (!content) return void res.end();
      content.on("error", () => res.destroy()).pipe(res);
    }),
  );
  router.add(
    "DELETE",
    "/v1/files/:id",
    route(ctx, async (_req, res, p) => {
      if (!(await ctx.files.delete(p.id!))) throw notFound(`file ${p.id}`);
      res.writeHead(204).end();
    }),
  );
}

async function find(ctx: HostedContext, id: string): Promise<FileInfo> {
  const f = await ctx.files.get(id);
  if (!f) throw notFound(`file ${id}`);
  return f;
}
