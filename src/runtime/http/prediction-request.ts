/**
 * Parses the container API request envelope `{id?, input?, webhook?, webhook_events_filter?, context?}`
 * into typed fields, with 422 detail entries for each malformed field.
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./respond.js";
import { pointsAtSelf } from "./self-target.js";
import { WEBHOOK_EVENTS, type WebhookEvent } from "../webhooks.js";
import type { ValidationIssue } from "../../schema/validate.js";
import { isExternalString } from "../../schema/external-string.js";
import { isExternalArray } from "../../schema/external-array.js";
import { isPlainObject } from "../../schema/refs.js";
import { materialize } from "../raw-json.js";

export interface PredictionEnvelope {
  id: string | undefined;
  input: unknown;
  webhook: string | undefined;
  filter: Set<WebhookEvent>;
  context: Record<string, string>;
}

export const ID_PATTERN = /^[A-Za-z0-9._~-]{1,256}$/;
/** The 422 message for an id (body or URL) that does not match ID_PATTERN. */
export const ID_RULE = "id must be 1-256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)";

export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, { detail: issues });
}

export function parseEnvelope(body: unknown): PredictionEnvelope {
  if (body === undefined || body === null) body = {};
  if (typeof body !== "object" || Array.isArray(body)) {
    throw validationError([{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }]);
  }
  const b = body as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  let id: string | undefined;
  if (b.id !== undefined && b.id !== null) {
    if (typeof b.id !== "string" || !ID_PATTERN.test(b.id)) {
      issues.push({
        loc: ["body", "id"],
        msg: ID_RULE,
        type: "value_error",
      });
    } else id = b.id;
  }
  const input = b.input ?? {};
  if (
    typeof input !== "object" ||
    Array.isArray(input) ||
    isExternalString(input) ||
    isExternalArray(input)
  ) {
    issues.push({ loc: ["body", "input"], msg: "Input should be a valid dictionary", type: "dict_type" });
  }
  let webhook: string | undefined;
  if (b.webhook !== undefined && b.webhook !== null) {
    let ok = false;
    if (typeof b.webhook === "string") {
      try {
        const u = new URL(b.webhook);
        ok = u.protocol === "http:" || u.protocol === "https:";
      } catch {
        ok = false;
      }
    }
    if (ok) webhook = b.webhook as string;
    else
      issues.push({ loc: ["body", "webhook"], msg: "webhook must be an http(s) URL", type: "url_parsing" });
  }
  const filter = new Set<WebhookEvent>(WEBHOOK_EVENTS);
  if (b.webhook_events_filter !== undefined && b.webhook_events_filter !== null) {
    const f = b.webhook_events_filter;
    if (!Array.isArray(f) || f.some((e) => !WEBHOOK_EVENTS.includes(e as WebhookEvent))) {
      issues.push({
        loc: ["body", "webhook_events_filter"],
        msg: `webhook_events_filter must be a list of ${WEBHOOK_EVENTS.join(", ")}`,
        type: "enum",
      });
    } else {
      filter.clear();
      for (const e of f as WebhookEvent[]) filter.add(e);
    }
  }
  const context: Record<string, string> = {};
  if (b.context !== undefined && b.context !== null) {
    // A long value may have been kept as request bytes: the context is small text, decoded here.
    const c = isPlainObject(b.context)
      ? Object.fromEntries(Object.entries(b.context).map(([k, v]) => [k, materialize(v)]))
      : b.context;
    if (typeof c !== "object" || Array.isArray(c) || Object.values(c).some((v) => typeof v !== "string")) {
      issues.push({
        loc: ["body", "context"],
        msg: "context must be an object of strings",
        type: "dict_type",
      });
    } else Object.assign(context, c);
  }
  if (issues.length > 0) throw validationError(issues);
  return { id, input, webhook, filter, context };
}

/** 422 for a webhook URL that points back at this server (it could stop or loop it). */
export function refuseSelfWebhook(webhook: string | undefined, req: IncomingMessage, port: number): void {
  if (webhook === undefined || !pointsAtSelf(new URL(webhook), req, port)) return;
  throw validationError([
    {
      loc: ["body", "webhook"],
      msg: "webhook must not point at this server itself",
      type: "value_error",
    },
  ]);
}
