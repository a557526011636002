/**
 * The Cog-compatible container API (http-contract.md): discovery, health-check, openapi, predictions
 * (sync / async+webhook / SSE), idempotent PUT, cancel, shutdown, and the trainings equivalents.
 * Rendering only: the state machine lives in core/.
 */
import { cacheDirective } from "../cache/policy.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PredictorKind } from "../protocol.js";
import type { Prediction } from "../core/prediction.js";
import { CapacityError, DuplicateIdError, type PredictionRunner } from "../core/runner.js";
import type { Health } from "../health.js";
import { attachWebhook, type WebhookSender } from "../webhooks.js";
import { streamPrediction, type SseLimits } from "../sse.js";
import { readJsonBody } from "./body.js";
import { detail, failure, sendJson } from "./respond.js";
import {
  ID_PATTERN,
  ID_RULE,
  parseEnvelope,
  refuseSelfWebhook,
  validationError,
} from "./prediction-request.js";
import type { Router } from "./router.js";

export interface ContainerApiContext {
  runner: PredictionRunner;
  health: Health;
  sender: WebhookSender;
  throttleMs: number;
  bodyLimit: number;
  hasTrainer: boolean;
  /** False for a train-only model (cog.yaml `train:` without `predict:`): /predictions answers 404. */
  hasPredictor: boolean;
  openapi: () => unknown;
  version: Record<string, string>;
  requestShutdown: () => void;
  sse: SseLimits;
  /** The port this server listens on (known once listening). */
  port: () => number;
}

const PATHS = { predict: "/predictions", train: "/trainings" } as const;

export function registerContainerApi(router: Router, ctx: ContainerApiContext): void {
  router.add("GET", "/", (_req, res) => sendJson(res, 200, discovery(ctx)));
  // Orchestrators probe health without credentials: the one container route the token does not guard.
  router.add(
    "GET",
    "/health-check",
    async (_req, res) => {
      await ctx.health.runUserHealthcheck();
      sendJson(res, 200, healthBody(ctx));
    },
    { public: true },
  );
  router.add("GET", "/openapi.json", (_req, res) => {
    const doc = ctx.openapi();
    if (!doc) throw failure(503, "the predictor has not loaded yet, so its schema is not known");
    sendJson(res, 200, doc);
  });
  router.add("POST", "/shutdown", (_req, res) => {
    sendJson(res, 200, {});
    res.once("finish", () => ctx.requestShutdown());
  });
  const kinds: PredictorKind[] = [];
  if (ctx.hasPredictor) kinds.push("predict");
  else registerMissing(router, "predict", NO_PREDICTOR);
  if (ctx.hasTrainer) kinds.push("train");
  else registerMissing(router, "train", NO_TRAINER);
  for (const kind of kinds) {
    const base = PATHS[kind];
    router.add("POST", base, (req, res) => create(ctx, kind, req, res, undefined));
    router.add("PUT", `${base}/:id`, (req, res, params) => create(ctx, kind, req, res, params.id));
    router.add("POST", `${base}/:id/cancel`, (_req, res, params) => {
      const p = ctx.runner.get(params.id!);
      const ok = p !== undefined && p.kind === kind && ctx.runner.cancel(p.id);
      sendJson(res, ok ? 200 : 404, {});
    });
  }
}

const NO_TRAINER =
  'this model has no trainer: its cog.yaml has no `train:` entry (e.g. train: "train.py:train"), ' +
  "so there is no /trainings endpoint";
const NO_PREDICTOR =
  "this model has no predict: entry (it only trains), so there is no /predictions endpoint: " +
  "POST /trainings instead";

/** Without `train:` Cog serves no /trainings (404), nor /predictions without `predict:`; we say why. */
function registerMissing(router: Router, kind: PredictorKind, why: string): void {
  const refuse = (): never => {
    throw detail(404, why);
  };
  const base = PATHS[kind];
  router.add("POST", base, refuse);
  router.add("PUT", `${base}/:id`, refuse);
  router.add("POST", `${base}/:id/cancel`, refuse);
}

function discovery(ctx: ContainerApiContext): Record<string, string> {
  const body: Record<string, string> = {
    cog_version: ctx.version.cog ?? "",
    kiln_version: ctx.version.kiln ?? "",
    openapi_url: "/openapi.json",
    healthcheck_url: "/health-check",
    shutdown_url: "/shutdown",
  };
  if (ctx.hasPredictor) {
    body.predictions_url = "/predictions";
    body.predictions_idempotent_url = "/predictions/{prediction_id}";
    body.predictions_cancel_url = "/predictions/{prediction_id}/cancel";
  }
  if (ctx.hasTrainer) {
    body.trainings_url = "/trainings";
    body.trainings_idempotent_url = "/trainings/{training_id}";
    body.trainings_cancel_url = "/trainings/{training_id}/cancel";
  }
  return body;
}

function healthBody(ctx: ContainerApiContext): Record<string, unknown> {
  const h = ctx.health;
  const body: Record<string, unknown> = {
    status: h.status(!ctx.runner.hasFreeSlot()),
    setup: { ...h.setup },
    version: ctx.version,
    concurrency: { max: ctx.runner.capacity, current: ctx.runner.inFlight },
  };
  if (h.userHealthcheckError !== null) body.user_healthcheck_error = h.userHealthcheckError;
  if (h.defunctReason !== null) body.error = h.defunctReason;
  if (h.restarts > 0 || h.phase === "restarting") {
    body.restarts = h.restarts;
    body.last_worker_exit = h.lastWorkerExit;
  }
  return body;
}

function ensureReady(ctx: ContainerApiContext): void {
  const h = ctx.health;
  if (h.ready) return;
  if (h.phase === "setup_failed") throw failure(503, `setup failed: ${h.setupError ?? "unknown error"}`);
  if (h.phase === "defunct") throw failure(503, `the predictor worker is gone: ${h.defunctReason ?? ""}`);
  if (h.phase === "restarting" || h.restarts > 0)
    throw failure(
      503,
      `the predictor worker is restarting after: ${h.lastWorkerExit ?? "a crash"}; retry shortly`,
    );
  throw failure(503, "the model is not ready yet: setup is still running");
}

function wantsSse(req: IncomingMessage): boolean {
  return (req.headers.accept ?? "").includes("text/event-stream");
}

function wantsAsync(req: IncomingMessage): boolean {
  return /\brespond-async\b/.test(String(req.headers.prefer ?? ""));
}

async function create(
  ctx: ContainerApiContext,
  kind: PredictorKind,
  req: IncomingMessage,
  res: ServerResponse,
  urlId: string | undefined,
): Promise<void> {
  const envelope = parseEnvelope(await readJsonBody(req, ctx.bodyLimit));
  refuseSelfWebhook(envelope.webhook, req, ctx.port());
  if (urlId !== undefined) {
    if (!ID_PATTERN.test(urlId)) {
      throw validationError([
        {
          loc: ["path", kind === "train" ? "training_id" : "prediction_id"],
          msg: ID_RULE,
          type: "value_error",
        },
      ]);
    }
    if (envelope.id !== undefined && envelope.id !== urlId) {
      throw validationError([
        {
          loc: ["body", "id"],
          msg: `${kind === "train" ? "training" : "prediction"} ID must match the ID supplied in the URL`,
          type: "value_error",
        },
      ]);
    }
    const running = ctx.runner.isRunning(urlId) ? ctx.runner.get(urlId) : undefined;
    if (running && running.kind === kind) {
      // Idempotent: the same id again returns (or re-attaches to) the one already running.
      if (wantsSse(req)) await streamPrediction(res, running, 202, undefined, ctx.sse);
      else sendJson(res, 202, running.snapshot());
      return;
    }
    envelope.id = urlId;
  }
  ensureReady(ctx);
  const created = ctx.runner.create({
    id: envelope.id,
    kind,
    input: envelope.input,
    context: envelope.context,
    cache: cacheDirective(req.headers["cache-control"]),
  });
  if (!created.ok) throw validationError(created.errors);
  const p = created.prediction;
  // Subscribe before starting: `start` may be emitted synchronously by runner.start().
  if (envelope.webhook) {
    attachWebhook(p, {
      url: envelope.webhook,
      filter: envelope.filter,
      throttleMs: ctx.throttleMs,
      sender: ctx.sender,
      render: (x) => x.snapshot(),
    });
  }
  try {
    ctx.runner.start(p);
  } catch (err) {
    if (err instanceof CapacityError || err instanceof DuplicateIdError) throw failure(409, err.message);
    throw err;
  }
  if (wantsSse(req)) {
    await streamPrediction(res, p, 200, undefined, ctx.sse);
  } else if (wantsAsync(req)) {
    sendJson(res, 202, p.snapshot());
  } else {
    await respondSync(ctx, res, p);
  }
}

async function respondSync(ctx: ContainerApiContext, res: ServerResponse, p: Prediction): Promise<void> {
  // A client that hangs up on a sync prediction no longer wants it: cancel (frees the slot too).
  const onClose = (): void => {
    if (!res.writableFinished && !p.terminal) ctx.runner.cancel(p.id);
  };
  res.once("close", onClose);
  await p.finished;
  res.off("close", onClose);
  if (res.destroyed) return;
  sendJson(res, 200, p.snapshot());
}
