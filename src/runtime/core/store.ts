/**
 * Where hosted (/v1) predictions live between create and the last lookup: one interface, two
 * implementations. `kiln serve` keeps them in memory beside its own runner (v1/memory-store.ts); the fleet
 * keeps them in Redis, queued on a stream that replicas consume (fleet/redis-store.ts). The /v1 routes
 * only ever talk to this interface, so the hosted API exists once.
 */
import type { ValidationIssue } from "../../schema/validate.js";
import type { WebhookEvent } from "../webhooks.js";
import type { CacheDirective } from "../cache/policy.js";
import type { Prediction } from "./prediction.js";
import type { PredictorKind } from "../protocol.js";

/** A prediction plus what the hosted JSON needs besides the state machine. */
export interface PredictionRecord {
  /** The state machine (for the fleet: a mirror fed from Redis, same class, same events). */
  prediction: Prediction;
  /** Origin the client reached us at (from Host), so urls.* work from where it called. */
  base: string;
  model: string;
  version: string;
  /** Position in the store, newest highest (list cursors). */
  seq: number;
  /** Trainings: the `owner/name` the client asked the trained version to go to (recorded, shown). */
  destination?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Cursor for older items, or null. */
  next: string | null;
  /** Cursor for newer items, or null. */
  previous: string | null;
}

export interface WebhookSpec {
  url: string;
  filter: ReadonlySet<WebhookEvent>;
}

/** What a create request names: a version id, a model / deployment (owner/name), or both. */
export type PredictionTarget =
  | { kind: "version"; version: string }
  /** A version of a named model (trainings are created this way). */
  | { kind: "model-version"; name: string; version: string }
  | { kind: "model"; name: string }
  | { kind: "deployment"; name: string };

export type PrepareResult =
  | { ok: true; prediction: Prediction; model: string; version: string }
  | { ok: false; errors: ValidationIssue[] };

/** Thrown by submit() when the model's queue is full (the /v1 API answers 429). */
export class QueueFullError extends Error {
  constructor(readonly size: number) {
    super(`the model is busy: all prediction slots are in use and the queue of ${size} is full; retry later`);
  }
}

/** One deployed version, as GET /v1/models/{owner}/{name}/versions shows it. */
export interface VersionInfo {
  id: string;
  created_at: string;
  cog_version: string;
  openapi_schema: unknown;
}

export interface PrepareOptions {
  /** The request's Cache-Control for the output cache (kiln serve; in the fleet it travels in the job). */
  cache?: CacheDirective | undefined;
  /** A prediction (default) or a training (the model's trainer; an HttpError 404 when it has none). */
  kind?: PredictorKind | undefined;
  /**
   * The origin the client used: a training's output files are kept by the store's /v1/files and
   * reported as URLs under it, not inlined as data URIs (weights are large).
   */
  base?: string | undefined;
}

export interface PredictionStore {
  /**
   * Resolves the target to a model version and validates the input into a new (not started)
   * prediction; throws an HttpError when the target cannot run (unknown, still loading, failed).
   */
  prepare(target: PredictionTarget, input: unknown, options?: PrepareOptions): Promise<PrepareResult>;
  /** Queues (or starts) the prediction and records it; throws QueueFullError when the queue is full. */
  submit(record: PredictionRecord, webhook: WebhookSpec | null): Promise<void>;
  get(id: string): Promise<PredictionRecord | undefined>;
  /** Newest first, predictions or trainings (default predictions). Cursors are opaque strings. */
  page(cursor: string | null, size: number, kind?: PredictorKind): Promise<Page<PredictionRecord>>;
  /** Asks for cancellation; the prediction ends `canceled` when whoever runs it acknowledges. */
  cancel(record: PredictionRecord): Promise<void>;
  /** How many predictions the store knows (the model's run_count). */
  count(): Promise<number>;
  /**
   * The versions of model `owner/name`, newest first; null when no such model is deployed. Throws an
   * HttpError (503) while the schema is not known yet.
   */
  /** Names (owner/name) of the models deployed, sorted: GET /v1/models. */
  models(): Promise<string[]>;
  versions(model: string): Promise<VersionInfo[] | null>;
}
