/** /v1/models[/{owner}/{name}[/versions[/{id}]]]: the one model this server runs, with its OpenAPI schema. */
import type { IncomingMessage } from "node:http";
import type { Router } from "../http/router.js";
import { sendJson } from "../http/respond.js";
import { hostedError, notFound } from "./errors.js";
import { baseUrl, route, type HostedContext } from "./context.js";

function versionBody(ctx: HostedContext): Record<string, unknown> {
  const schema = ctx.openapi();
  if (!schema)
    throw hostedError(
      503,
      "Service unavailable",
      "the model is still loading, so its schema is not known yet",
      { "retry-after": "1" },
    );
  return {
    id: ctx.version,
    created_at: ctx.versionCreatedAt,
    cog_version: ctx.cogVersion,
    openapi_schema: schema,
  };
}

function modelBody(
  ctx: HostedContext,
  req: IncomingMessage,
  owner: string,
  name: string,
): Record<string, unknown> {
  return {
    url: `${baseUrl(req)}/v1/models/${owner}/${name}`,
    owner,
    name,
    description: null,
    visibility: "private",
    github_url: null,
    paper_url: null,
    license_url: null,
    run_count: ctx.registry.size,
    cover_image_url: null,
    default_example: null,
    latest_version: versionBody(ctx),
  };
}

export function registerModelRoutes(router: Router, ctx: HostedContext): void {
  // The hosted API's model list; here the one model, under the name its predictions report.
  router.add(
    "GET",
    "/v1/models",
    route(ctx, (req, res) => {
      const [owner = "kiln", name = "model"] = ctx.model.split("/");
      sendJson(res, 200, { results: [modelBody(ctx, req, owner, name)], next: null, previous: null });
    }),
  );
  // Any owner/name reaches the one model served here, so code written for a hosted model runs unchanged.
  router.add(
    "GET",
    "/v1/models/:owner/:name",
    route(ctx, (req, res, p) => sendJson(res, 200, modelBody(ctx, req, p.owner!, p.name!))),
  );
  router.add(
    "GET",
    "/v1/models/:owner/:name/versions",
    route(ctx, (_req, res) =>
      sendJson(res, 200, { results: [versionBody(ctx)], next: null, previous: null }),
    ),
  );
  router.add(
    "GET",
    "/v1/models/:owner/:name/versions/:id",
    route(ctx, (_req, res, p) => {
      if (p.id !== ctx.version) throw notFound(`version ${p.id} (this server runs version ${ctx.version})`);
      sendJson(res, 200, versionBody(ctx));
    }),
  );
  router.add(
    "GET",
    "/v1/webhooks/default/secret",
    route(ctx, (_req, res) => sendJson(res, 200, { key: ctx.webhookSecret })),
  );
  router.add(
    "GET",
    "/v1/account",
    route(ctx, (_req, res) => sendJson(res, 200, { type: "user", username: "kiln", name: "kiln (local)" })),
  );
}
