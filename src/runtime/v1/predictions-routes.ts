/**
 * /v1 predictions: create (by version, or through /v1/models/{owner}/{name}/predictions), `Prefer: wait`,
 * get, list, cancel and the SSE stream. All of it goes through the PredictionStore (memory or Redis).
 */
import { cacheDirective } from "../cache/policy.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readJsonBody } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { parseEnvelope, refuseSelfWebhook } from "../http/prediction-request.js";
import type { PredictionRecord, PredictionTarget } from "../core/store.js";
import { predictionUrls, renderHeld, renderHosted, renderRecord } from "./render.js";
import { parseLastEventId, streamHosted } from "./stream.js";
import { parseCancelAfter } from "./cancel-after.js";
import { hostedError, invalidInput } from "./errors.js";
import { baseUrl, route, type HostedContext, type RouteSink } from "./context.js";
import { addRecordRoutes, createBody, findRecord, listRoute, submitRecord } from "./record-routes.js";

const MAX_WAIT_S = 60;

/** Seconds to hold the request from `Prefer: wait[=N]`, or null when not asked to wait. */
export function parsePreferWait(header: string | string[] | undefined): number | null {
  const text = Array.isArray(header) ? header.join(",") : (header ?? "");
  const m = /(?:^|[,;\s])wait(?:\s*=\s*([^,;\s]*))?(?=$|[,;\s])/i.exec(text);
  if (!m) return null;
  if (m[1] === undefined) return MAX_WAIT_S;
  const n = Number(m[1]);
  if (!Number.isInteger(n) || n < 1) {
    throw hostedError(
      400,
      "Bad request",
      `Prefer: wait=${m[1]} is not valid: use wait or wait=N with N a whole number of seconds (1-${MAX_WAIT_S})`,
    );
  }
  return Math.min(n, MAX_WAIT_S);
}

export function registerPredictionRoutes(router: RouteSink, ctx: HostedContext): void {
  router.add(
    "POST",
    "/v1/predictions",
    route(ctx, (req, res) => create(ctx, req, res, null)),
  );
  router.add(
    "POST",
    "/v1/models/:owner/:name/predictions",
    route(ctx, (req, res, p) => create(ctx, req, res, { kind: "model", name: `${p.owner}/${p.name}` })),
  );
  // Deployments map to a version in the store (kiln serve: every deployment runs the one local model).
  router.add(
    "POST",
    "/v1/deployments/:owner/:name/predictions",
    route(ctx, (req, res, p) => create(ctx, req, res, { kind: "deployment", name: `${p.owner}/${p.name}` })),
  );
  router.add("GET", "/v1/predictions", listRoute(ctx, "predict", "/v1/predictions", renderHosted));
  // A training id answers too (as a training): `replicate.wait(training)` polls predictions.get.
  addRecordRoutes(router, ctx, "/v1/predictions", null, renderRecord);
  router.add(
    "GET",
    "/v1/predictions/:id/stream",
    route(ctx, async (req, res, p) =>
      streamHosted(
        res,
        (await findRecord(ctx, p.id!, null)).prediction,
        parseLastEventId(req.headers["last-event-id"]),
        ctx.sse,
      ),
    ),
    { public: true },
  );
}

async function create(
  ctx: HostedContext,
  req: IncomingMessage,
  res: ServerResponse,
  named: PredictionTarget | null,
): Promise<void> {
  const wait = parsePreferWait(req.headers.prefer);
  const cancelAfterMs = parseCancelAfter(req.headers["cancel-after"]);
  const body = createBody(await readJsonBody(req, ctx.bodyLimit));
  if (named === null && (typeof body.version !== "string" || body.version.length === 0)) {
    throw invalidInput([
      { loc: ["body", "version"], msg: "Field required (a version id string)", type: "missing" },
    ]);
  }
  // The hosted API takes no id or context from the client; the shared parser checks the rest.
  const envelope = parseEnvelope({
    input: body.input,
    webhook: body.webhook,
    webhook_events_filter: body.webhook_events_filter,
  });
  refuseSelfWebhook(envelope.webhook, req, ctx.files.port);
  const target = named ?? { kind: "version", version: body.version as string };
  const created = await ctx.store.prepare(target, envelope.input, {
    cache: cacheDirective(req.headers["cache-control"]),
  });
  if (!created.ok) throw invalidInput(created.errors);
  const p = created.prediction;
  const record: PredictionRecord = {
    prediction: p,
    base: baseUrl(req),
    model: created.model,
    version: created.version,
    seq: 0,
  };
  const webhook = envelope.webhook ? { url: envelope.webhook, filter: envelope.filter } : null;
  await submitRecord(ctx, record, webhook);
  if (cancelAfterMs !== null) {
    // Cancel-After: canceled (not Replicate's `aborted`, which the clients would poll forever) at the deadline.
    const deadline = setTimeout(() => {
      if (!p.terminal) void ctx.store.cancel(record).catch(() => undefined);
    }, cancelAfterMs);
    deadline.unref();
    void p.finished.then(() => clearTimeout(deadline));
  }
  // Only the URL is needed here: no full render (snapshot copy) just for the Location header.
  const headers = { location: predictionUrls(record.base, p.id).get };
  if (wait !== null && !p.terminal) {
    let timer: NodeJS.Timeout | undefined;
    let onClose: () => void = () => undefined;
    await Promise.race([
      p.finished,
      new Promise((r) => (timer = setTimeout(r, wait * 1000))),
      new Promise<void>((r) => res.once("close", (onClose = r))),
    ]);
    clearTimeout(timer);
    res.off("close", onClose);
    if (res.destroyed) return;
    sendJson(res, 201, renderHeld(record), headers);
    return;
  }
  sendJson(res, 201, renderHosted(record), headers);
}
