/**
 * What the predictions and trainings routes share: list pages with cursor links, cancel-and-settle,
 * get and cancel by id, submit (a full queue is 429) and the create body check. Both kinds live in the one PredictionStore.
 */
import type { Handler } from "../http/router.js";
import { sendJson } from "../http/respond.js";
import type { PredictorKind } from "../protocol.js";
import { QueueFullError, type PredictionRecord, type WebhookSpec } from "../core/store.js";
import { hostedError, invalidInput, notFound } from "./errors.js";
import { baseUrl, route, type HostedContext, type RouteSink } from "./context.js";

const CANCEL_SETTLE_MS = 2000;

/** GET /v1/<path>: newest first, `{results, next, previous}` with cursor URLs under the same path. */
export function listRoute(
  ctx: HostedContext,
  kind: PredictorKind,
  path: string,
  render: (r: PredictionRecord) => unknown,
): Handler {
  return route(ctx, async (req, res, _p, url) => {
    let page;
    try {
      page = await ctx.store.page(url().searchParams.get("cursor"), ctx.pageSize, kind);
    } catch (err) {
      throw hostedError(400, "Bad request", (err as Error).message);
    }
    const link = (c: string | null): string | null => (c ? `${baseUrl(req)}${path}?cursor=${c}` : null);
    sendJson(res, 200, {
      results: page.items.map(render),
      next: link(page.next),
      previous: link(page.previous),
    });
  });
}

/** The record with this id; 404 when there is none, or (with `kind`) when it is of another kind. */
export async function findRecord(
  ctx: HostedContext,
  id: string,
  kind: PredictorKind | null,
): Promise<PredictionRecord> {
  const r = await ctx.store.get(id);
  if (!r || (kind !== null && r.prediction.kind !== kind))
    throw notFound(`${kind === "train" ? "training" : "prediction"} ${id}`);
  return r;
}

/** GET <path>/:id and POST <path>/:id/cancel, answering with `render` of the record. */
export function addRecordRoutes(
  router: RouteSink,
  ctx: HostedContext,
  path: string,
  kind: PredictorKind | null,
  render: (r: PredictionRecord) => unknown,
): void {
  router.add(
    "GET",
    `${path}/:id`,
    route(ctx, async (_req, res, p) => sendJson(res, 200, render(await findRecord(ctx, p.id!, kind)))),
  );
  router.add(
    "POST",
    `${path}/:id/cancel`,
    route(ctx, async (_req, res, p) => {
      const record = await findRecord(ctx, p.id!, kind);
      await cancelAndSettle(ctx, record);
      sendJson(res, 200, render(record));
    }),
  );
}

/** Asks the store to cancel, then lets the worker acknowledge so the answer usually says `canceled`. */
async function cancelAndSettle(ctx: HostedContext, record: PredictionRecord): Promise<void> {
  const p = record.prediction;
  await ctx.store.cancel(record);
  if (!p.terminal) await Promise.race([p.finished, new Promise((r) => setTimeout(r, CANCEL_SETTLE_MS))]);
}

/** Queues the record; a full queue answers 429 with Retry-After. */
export async function submitRecord(
  ctx: HostedContext,
  record: PredictionRecord,
  webhook: WebhookSpec | null,
): Promise<void> {
  try {
    await ctx.store.submit(record, webhook);
  } catch (err) {
    if (err instanceof QueueFullError)
      throw hostedError(429, "Too many requests", err.message, { "retry-after": "1" });
    throw err;
  }
}

/** A create request's body: a JSON object (an absent body is `{}`), else 422. */
export function createBody(raw: unknown): Record<string, unknown> {
  const body = (raw ?? {}) as Record<string, unknown>;
  if (typeof body !== "object" || Array.isArray(body)) {
    throw invalidInput([{ loc: ["body"], msg: "the request body must be a JSON object", type: "dict_type" }]);
  }
  return body;
}
