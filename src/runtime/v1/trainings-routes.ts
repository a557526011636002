/**
 * /v1 trainings, as `replicate.trainings.create/get/list/cancel` call them: create on a model version
 * (`/v1/models/{owner}/{name}/versions/{id}/trainings`), get, list, cancel. A training is a prediction of
 * the model's trainer: the same store, state machine, queue and webhooks, rendered as a training.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readJsonBody } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { parseEnvelope, refuseSelfWebhook } from "../http/prediction-request.js";
import type { PredictionRecord } from "../core/store.js";
import { renderTraining, trainingUrls } from "./render.js";
import { invalidInput } from "./errors.js";
import { baseUrl, route, type HostedContext, type RouteSink } from "./context.js";
import { addRecordRoutes, createBody, listRoute, submitRecord } from "./record-routes.js";

// Replicate's model names: owner and name of letters, digits, dashes, underscores and dots.
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function registerTrainingRoutes(router: RouteSink, ctx: HostedContext): void {
  router.add(
    "POST",
    "/v1/models/:owner/:name/versions/:version/trainings",
    route(ctx, (req, res, p) => create(ctx, req, res, `${p.owner}/${p.name}`, p.version!)),
  );
  router.add("GET", "/v1/trainings", listRoute(ctx, "train", "/v1/trainings", renderTraining));
  addRecordRoutes(router, ctx, "/v1/trainings", "train", renderTraining);
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
  const body = createBody(await readJsonBody(req, ctx.bodyLimit));
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
  await submitRecord(ctx, record, webhook);
  sendJson(res, 201, renderTraining(record), { location: trainingUrls(base, record.prediction.id).get });
}
