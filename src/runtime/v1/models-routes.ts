/** /v1/models/{owner}/{name}[/versions[/{id}]]: what the store has deployed, with OpenAPI schemas. */
import type { IncomingMessage } from "node:http";
import type { Router } from "../http/router.js";
import { sendJson } from "../http/respond.js";
import type { VersionInfo } from "../core/store.js";
import { notFound } from "./errors.js";
import { baseUrl, route, type HostedContext } from "./context.js";

async function versionsOf(ctx: HostedContext, owner: string, name: string): Promise<VersionInfo[]> {
  const versions = await ctx.store.versions(`${owner}/${name}`);
  if (!versions || versions.length === 0) throw notFound(`model ${owner}/${name}`);
  return versions;
}

async function modelBody(
  ctx: HostedContext,
  req: IncomingMessage,
  owner: string,
  name: string,
): Promise<Record<string, unknown>> {
  const versions = await versionsOf(ctx, owner, name);
  return {
    url: `${baseUrl(req)}/v1/models/${owner}/${name}`,
    owner,
    name,
    description: null,
    visibility: "private",
    github_url: null,
    paper_url: null,
    license_url: null,
    run_count: await ctx.store.count(),
    cover_image_url: null,
    default_example: null,
    latest_version: versions[0],
  };
}

export function registerModelRoutes(router: Router, ctx: HostedContext): void {
  // kiln serve: any owner/name reaches its one model, so code written for a hosted model runs unchanged.
  router.add(
    "GET",
    "/v1/models/:owner/:name",
    route(ctx, async (req, res, p) => sendJson(res, 200, await modelBody(ctx, req, p.owner!, p.name!))),
  );
  router.add(
    "GET",
    "/v1/models/:owner/:name/versions",
    route(ctx, async (_req, res, p) =>
      sendJson(res, 200, { results: await versionsOf(ctx, p.owner!, p.name!), next: null, previous: null }),
    ),
  );
  router.add(
    "GET",
    "/v1/models/:owner/:name/versions/:id",
    route(ctx, async (_req, res, p) => {
      const versions = await versionsOf(ctx, p.owner!, p.name!);
      const found = versions.find((v) => v.id === p.id);
      if (!found)
        throw notFound(
          versions.length === 1
            ? `version ${p.id} (this server runs version ${versions[0]!.id})`
            : `version ${p.id} (deployed: ${versions.map((v) => v.id).join(", ")})`,
        );
      sendJson(res, 200, found);
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
