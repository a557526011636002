/**
 * Where `kiln client` reads a model's schema and version from: a running server (URL), a model on a
 * /v1 API (owner/name), an image (its run.cog.openapi_schema label; the version is its digest), or the
 * project here (built as `kiln predict` would, or run with --no-docker).
 */
import { KilnError, EXIT_CODES, UsageError } from "../errors.js";
import type { ModelFacts } from "../client-gen/model.js";
import type { ProgressMode, RunContext } from "../context.js";
import type { ResolvedManifest } from "../manifest/types.js";

export interface SourceFlags {
  model?: string | undefined;
  version?: string | undefined;
  baseUrl?: string | undefined;
  /** PEM CA certificate of an image's registry. */
  ca?: Buffer | undefined;
  remote?: boolean | undefined;
  docker: boolean;
  /** The project's manifest (the one loader of src/cli), loaded only for the project source. */
  loadProject: () => Promise<ResolvedManifest>;
  python: string;
  progress?: ProgressMode | undefined;
}

export interface ModelSchema {
  doc: unknown;
  facts: ModelFacts;
  /** Things the user should know (e.g. pinned to a local image id). */
  notes: string[];
}

export type SourceKind = "project" | "url" | "model" | "image" | "file";

const HOSTED_MODEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** URL: http(s)://...; owner/name: exactly two plain segments; anything else is an image reference. */
function sourceKind(arg: string | undefined): SourceKind {
  if (arg === undefined) return "project";
  if (/^https?:\/\//i.test(arg)) return "url";
  if (arg.endsWith(".json")) return "file";
  const first = arg.split("/")[0] ?? "";
  if (HOSTED_MODEL.test(arg) && !first.includes(".") && first !== "localhost") return "model";
  return "image";
}

function sourceError(message: string, hint?: string, cause?: unknown): KilnError {
  return new KilnError("client_source", EXIT_CODES.usage, message, { hint, cause });
}

async function getJson(
  url: string,
  token: string | undefined,
  signal: AbortSignal,
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
    });
  } catch (err) {
    const why = (err as { cause?: { code?: string; message?: string } }).cause;
    throw sourceError(
      `cannot reach ${url}: ${why?.code ?? why?.message ?? (err as Error).message}`,
      "Is the server running (kiln serve, kiln gateway) and the URL right?",
      err,
    );
  }
  const text = await res.text();
  try {
    return { status: res.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** GET with a few retries while a starting server answers 503 (its schema is not known yet). */
async function getJsonPatiently(url: string, token: string | undefined, signal: AbortSignal) {
  for (let attempt = 0; ; attempt++) {
    const r = await getJson(url, token, signal);
    if (r.status !== 503 || attempt >= 20) return r;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function versionOf(body: unknown): { id: string | null; schema: unknown } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as { latest_version?: unknown; id?: unknown; openapi_schema?: unknown };
  const v = (b.latest_version ?? (b.openapi_schema !== undefined ? b : undefined)) as
    { id?: unknown; openapi_schema?: unknown } | undefined | null;
  if (!v || typeof v.openapi_schema !== "object" || v.openapi_schema === null) return undefined;
  return { id: typeof v.id === "string" ? v.id : null, schema: v.openapi_schema };
}

function modelPath(model: string, version: string | undefined): string {
  const [owner = "", name = ""] = model.split("/");
  const base = `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  return version ? `${base}/versions/${encodeURIComponent(version)}` : base;
}

function checkModelName(model: string | undefined): void {
  if (model !== undefined && !HOSTED_MODEL.test(model))
    throw new UsageError(`--model must look like owner/name, got ${JSON.stringify(model)}`);
}

/** A running kiln server (container API + /v1), a kiln gateway, or a Cog container. */
async function fromUrl(ctx: RunContext, url: string, flags: SourceFlags): Promise<ModelSchema> {
  const root = url.replace(/\/+$/, "").replace(/\/v1$/, "");
  const model = flags.model ?? "local/model";
  const token = process.env["REPLICATE_API_TOKEN"] || process.env["KILN_API_TOKEN"] || undefined;
  const notes: string[] = [];
  const hosted = await getJsonPatiently(`${root}/v1${modelPath(model, flags.version)}`, token, ctx.signal);
  const found = hosted.status === 200 ? versionOf(hosted.body) : undefined;
  let doc: unknown;
  let version: string | null;
  if (found) {
    doc = found.schema;
    version = flags.version ?? found.id;
  } else {
    if (hosted.status === 401) {
      throw sourceError(`${root}/v1 refused the token (401)`, "Set REPLICATE_API_TOKEN (or KILN_API_TOKEN).");
    }
    // A Cog container (no /v1): the container API's own document.
    const direct = await getJsonPatiently(`${root}/openapi.json`, token, ctx.signal);
    if (direct.status !== 200) {
      throw sourceError(
        `${root} serves neither /v1${modelPath(model, flags.version)} (${hosted.status}) nor /openapi.json (${direct.status})`,
        "Point at a kiln server or gateway (http://HOST:PORT), and pass --model owner/name for a gateway.",
      );
    }
    doc = direct.body;
    version = flags.version ?? null;
    notes.push("the server has no /v1 API: no version pinned; predictions run whatever it serves");
  }
  if (!flags.model) notes.push("no --model given: the client names the model local/model");
  return { doc, facts: { model, version, source: url, baseUrl: flags.baseUrl ?? `${root}/v1` }, notes };
}

/** owner/name on a /v1 API (Replicate's by default, or --base-url / REPLICATE_API_BASE_URL). */
async function fromModel(ctx: RunContext, model: string, flags: SourceFlags): Promise<ModelSchema> {
  const base = (
    flags.baseUrl ??
    process.env["REPLICATE_API_BASE_URL"] ??
    "https://api.replicate.com/v1"
  ).replace(/\/+$/, "");
  const token = process.env["REPLICATE_API_TOKEN"] || undefined;
  const r = await getJsonPatiently(`${base}${modelPath(model, flags.version)}`, token, ctx.signal);
  if (r.status === 401 || r.status === 403)
    throw sourceError(`${base} refused to show ${model} (${r.status})`, "Set REPLICATE_API_TOKEN.");
  if (r.status === 404)
    throw sourceError(
      `${base} has no model ${model}${flags.version ? ` with version ${flags.version}` : ""}`,
      "Check the name; for a local image write it with a tag (name:latest).",
    );
  const found = r.status === 200 ? versionOf(r.body) : undefined;
  if (!found)
    throw sourceError(
      `${base}${modelPath(model, flags.version)} answered ${r.status} without an OpenAPI schema`,
    );
  return {
    doc: found.schema,
    facts: { model, version: flags.version ?? found.id, source: model, baseUrl: flags.baseUrl ?? null },
    notes: [],
  };
}

/** A saved OpenAPI document (e.g. curl http://HOST:PORT/openapi.json > model.json). */
async function fromFile(ctx: RunContext, file: string, flags: SourceFlags): Promise<ModelSchema> {
  const { readFile } = await import("node:fs/promises");
  const { basename, resolve } = await import("node:path");
  let text: string;
  try {
    text = await readFile(resolve(ctx.cwd, file), "utf8");
  } catch (err) {
    throw sourceError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw sourceError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const model = flags.model ?? `local/${basename(file, ".json").replace(/[^A-Za-z0-9_.-]/g, "-") || "model"}`;
  const notes = flags.version ? [] : ["a schema file carries no version: none pinned (use --pin)"];
  return {
    doc,
    facts: { model, version: flags.version ?? null, source: file, baseUrl: flags.baseUrl ?? null },
    notes,
  };
}

/** owner/name from an image repository: its last two path segments. */
function modelFromRepository(repository: string): string {
  const parts = repository.split("/").filter(Boolean);
  if (parts.length >= 2) return parts.slice(-2).join("/");
  return `local/${parts[0] ?? "model"}`;
}

async function fromImage(ctx: RunContext, image: string, flags: SourceFlags): Promise<ModelSchema> {
  const { parseReference } = await import("../docker/reference.js");
  const { inspectImage } = await import("../docker/inspect.js");
  const ref = parseReference(image);
  const info = await inspectImage(ref, {
    remote: flags.remote,
    ca: flags.ca,
    // No engine here: the registry still has the labels.
    onLocalFailure: (err) => ctx.out.debug(`local inspect failed: ${(err as Error).message}`),
  });
  const doc = info.cog.openapiSchema;
  if (typeof doc !== "object" || doc === null) {
    throw sourceError(
      `${image} has no readable run.cog.openapi_schema label: it was not built by kiln or Cog`,
      "Build it with `kiln build -t NAME`.",
    );
  }
  const notes: string[] = [];
  let version = flags.version ?? info.digest ?? null;
  if (version === null && info.id) {
    version = info.id;
    notes.push(
      `${image} has no registry digest yet (never pushed): pinned to its local image id; push it and regenerate to pin the digest`,
    );
  }
  const model = flags.model ?? modelFromRepository(ref.repository);
  return { doc, facts: { model, version, source: image, baseUrl: flags.baseUrl ?? null }, notes };
}

/** The project in this directory: built like `kiln predict` does, or run directly with --no-docker. */
async function fromProject(ctx: RunContext, flags: SourceFlags): Promise<ModelSchema> {
  const { resolveModelSource } = await import("./model-source.js");
  const notes: string[] = [];
  const source = await resolveModelSource(ctx, {
    image: undefined,
    docker: flags.docker,
    loadProject: flags.loadProject,
    progress: flags.progress ?? "auto",
  });
  const model = flags.model ?? `local/${source.project?.root.split("/").pop() ?? "model"}`;
  if (source.kind === "docker") {
    notes.push(
      "pinned to the local image id of the build; push the image and generate from it to pin its digest",
    );
    return {
      doc: source.image.openapi,
      facts: {
        model,
        version: flags.version ?? source.image.id,
        source: ".",
        baseUrl: flags.baseUrl ?? null,
      },
      notes,
    };
  }
  const { startLocalModel } = await import("./local-model.js");
  const { fetchOpenApi } = await import("../prediction/client.js");
  const server = await startLocalModel(source.project, {
    python: flags.python,
    env: {},
    setupTimeoutMs: 300_000,
  });
  try {
    const doc = await fetchOpenApi(server.url, { timeoutMs: 300_000, signal: ctx.signal });
    notes.push("--no-docker: no image, so no version pinned");
    return {
      doc,
      facts: { model, version: flags.version ?? null, source: ".", baseUrl: flags.baseUrl ?? null },
      notes,
    };
  } finally {
    await server.close();
  }
}

export async function readModelSchema(
  ctx: RunContext,
  arg: string | undefined,
  flags: SourceFlags,
): Promise<ModelSchema> {
  checkModelName(flags.model);
  switch (sourceKind(arg)) {
    case "project":
      return fromProject(ctx, flags);
    case "url":
      return fromUrl(ctx, arg as string, flags);
    case "model":
      return fromModel(ctx, arg as string, flags);
    case "image":
      return fromImage(ctx, arg as string, flags);
    case "file":
      return fromFile(ctx, arg as string, flags);
  }
}
