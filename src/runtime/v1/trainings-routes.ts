/**
 * /v1 trainings, as `replicate.trainings.create/get/list/cancel` call them: create on a model version
 * (`/v1/models/{owner}/{name}/versions/{id}/trainings`), get, list, cancel. A training is a prediction of
 * the model's trainer: the same store, state machine, queue and webhooks, rendered as a training.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Router } from "../http/router.js";
import { readJsonBody } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { parseEnvelope, refuseSelfWebhook } from "../http/prediction-request.js";
import { QueueFullError, type PredictionRecord } from "../core/store.js";
import { renderTraining, trainingUrls } from "./render.js";
import { hostedError, invalidInput, notFound } from "./errors.js";
import { baseUrl, route, type HostedContext } from "./context.js";

const CANCEL_SETTLE_MS = 2000;
// Replicate's model names: owner and name of letters, digits, dashes, underscores and dots.
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function registerTrainingRoutes(router: Router, ctx: HostedContext): void {
  router.add(
    "POST",
    "/v1/models/:owner/:name/versions/:version/trainings",
    route(ctx, (req, res, p) => create(ctx, req, res, `${p.owner}/${p.name}`, p.version!)),
  );
  router.add(
    "GET",
    "/v1/trainings",
    route(ctx, async (req, res, _p, url) => {
      let page;
      try {
        page = await ctx.store.page(url.searchParams.get("cursor"), ctx.pageSize, "train");
      } catch (err) {
        throw hostedError(400, "Bad request", (err as Error).message);
      }
      const link = (c: string | null): string | null =>
        c ? `${baseUrl(req)}/v1/trainings?cursor=${c}` : null;
      sendJson(res, 200, {
        results: page.items.map(renderTraining),
        next: link(page.next),
        previous: link(page.previous),
      });
    }),
  );
  router.add(
    "GET",
    "/v1/trainings/:id",
    route(ctx, async (_req, res, p) => sendJson(res, 200, renderTraining(await find(ctx, p.id!)))),
  );
  router.add(
    "POST",
    "/v1/trainings/:id/cancel",
    route(ctx, async (_req, res, p) => {
      const record = await find(ctx, p.id!);
      const training = record.prediction;
      await ctx.store.cancel(record);
      // Let the trainer acknowledge, so the answer usually already says `canceled`.
      if (!training.terminal)
        await Promise.race([training.finished, new Promise((r) => setTimeout(r, CANCEL_SETTLE_MS))]);
      sendJson(res, 200, renderTraining(record));
    }),
  );
}

async function find(ctx: HostedContext, id: string): Promise<PredictionRecord> {
  const r = await ctx.store.get(id);
  if (!r || r.prediction.kind !== "train") throw notFound(`training ${id}`);
  return r;
}

/** `destination` is required, as on Replicate: the `owner/name` the trained version is meant for. */
function parseDestination(value: unknown): string {
  if (typeof value === "string" && MODEL_NAME.test(value)) return value;
  throw invalidInput([
    {
      loc: ["body", "destination"],
      msg:
        value === undefined || value === null
          ? 'Field required: the model the trained version goes to, as "owner/name"'
          : `destination must be a model name "owner/name", got ${JSON.stringify(value).slice(0, 100)}`,
      type: value === undefined || value === null ? "missing" : "value_error",
    },
  ]);
}

async function create(
  ctx: HostedContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  version: string,
): Promise<void> {
  const raw = await readJsonBody(req, ctx.bodyLimit);
  const body = (raw ?? {}) as Record<string, unknown>;
  if (typeof body !== "object" || Array.isArray(body)) {
    throw invalidInput([{ loc: ["body"], msg: "the request body must be a JSON object", type: "dict_type" }]);
  }
  const destination = parseDestination(body.destination);
  const envelope = parseEnvelope({
    input: body.input,
    webhook: body.webhook,
    webhook_events_filter: body.webhook_events_filter,
  });
  refuseSelfWebhook(envelope.webhook, req, ctx.files.port);
  const base = baseUrl(req);
  const created = await ctx.store.prepare({ kind: "model-version", name: model, version }, envelope.input, {
    kind: "train",
    base,
  });
  if (!created.ok) throw invalidInput(created.errors);
  const record: PredictionRecord = {
    prediction: created.prediction,
    base,
    model: created.model,
    version: created.version,
    seq: 0,
    destination,
  };
  const webhook = envelope.webhook ? { url: envelope.webhook, filter: envelope.filter } : null;
  try {
    await ctx.store.submit(record, webhook);
  } catch (err) {
    if (err instanceof QueueFullError)
      throw hostedError(429, "Too many requests", err.message, { "retry-after": "1" });
    throw err;
  }
  sendJson(res, 201, renderTraining(record), { location: trainingUrls(base, record.prediction.id).get });
}
