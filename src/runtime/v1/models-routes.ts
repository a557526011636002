/** /v1/models[/{owner}/{name}[/versions[/{id}]]]: what the store has deployed, with OpenAPI schemas. */
import type { IncomingMessage } from "node:http";
import { sendJson } from "../http/respond.js";
import type { VersionInfo } from "../core/store.js";
import { notFound } from "./errors.js";
import { baseUrl, route, type HostedContext, type RouteSink } from "./context.js";

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

export function registerModelRoutes(router: RouteSink, ctx: HostedContext): void {
  // The hosted API's model list (replicate.models.list(), the playground's model picker).
  router.add(
    "GET",
    "/v1/models",
    route(ctx, async (req, res) => {
      const results = [];
      for (const full of await ctx.store.models()) {
        const [owner = "kiln", name = "model"] = full.split("/");
        results.push(await modelBody(ctx, req, owner, name));
      }
      sendJson(res, 200, { results, next: null, previous: null });
    }),
  );
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
      // A server with one version answers whatever the id: the Python client's
      // replicate.run("owner/name:VERSION") fetches the version after creating the prediction and raises
      // on 404, and `kiln serve` runs one model, whichever id it was built as.
      if (!found && versions.length === 1) return sendJson(res, 200, { ...versions[0]!, id: p.id });
      if (!found) throw notFound(`version ${p.id} (deployed: ${versions.map((v) => v.id).join(", ")})`);
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
