/** The hosted API's prediction JSON, rendered from the core's Prediction (the single source of truth). */
import type { PredictionSnapshot } from "../core/prediction.js";
import type { HostedRecord } from "./registry.js";

/** The container API's fields plus the hosted API's own. */
export interface HostedPrediction extends PredictionSnapshot {
  model: string;
  version: string;
  data_removed: false;
  source: "api";
  urls: { get: string; cancel: string; stream: string };
}

export function predictionUrls(base: string, id: string): HostedPrediction["urls"] {
  const get = `${base}/v1/predictions/${encodeURIComponent(id)}`;
  return { get, cancel: `${get}/cancel`, stream: `${get}/stream` };
}

export function renderHosted(r: HostedRecord): HostedPrediction {
  const s = r.prediction.snapshot();
  const metrics = s.metrics; // snapshot() already returns a fresh copy
  if (r.prediction.completedAt) {
    const wall = (r.prediction.completedAt.getTime() - r.prediction.createdAt.getTime()) / 1000;
    // The clock has whole milliseconds, predict_time a monotonic sub-millisecond reading: never less.
    const predict = typeof metrics.predict_time === "number" ? metrics.predict_time : 0;
    metrics.total_time = Math.max(wall, predict);
  }
  return {
    id: s.id,
    model: r.model,
    version: r.version,
    input: s.input,
    output: s.output,
    logs: s.logs,
    error: s.error,
    status: s.status,
    created_at: s.created_at,
    started_at: s.started_at,
    completed_at: s.completed_at,
    data_removed: false,
    source: "api",
    urls: predictionUrls(r.base, s.id),
    metrics,
  };
}

/**
 * A held (`Prefer: wait`) response that ran out of time: the replicate client treats every status but
 * `starting` as final, so an unfinished prediction is reported as `starting` (it then polls).
 */
export function renderHeld(r: HostedRecord): HostedPrediction {
  const body = renderHosted(r);
  if (!r.prediction.terminal) {
    body.status = "starting";
    body.output = null;
  }
  return body;
}

/** A training as the hosted API shows it (what `replicate.trainings.*` return). */
export interface HostedTraining extends Omit<HostedPrediction, "urls"> {
  /** Where the client asked the trained version to go (`owner/name`). */
  destination: string | null;
  urls: { get: string; cancel: string };
}

export function trainingUrls(base: string, id: string): HostedTraining["urls"] {
  const get = `${base}/v1/trainings/${encodeURIComponent(id)}`;
  return { get, cancel: `${get}/cancel` };
}

/**
 * The hosted API's training output is an object with `weights`: a trainer that returned a bare file
 * (Cog's `-> Path` / `-> File`) has its URL reported there; anything else (a TrainingOutput object,
 * a plain string) is kept as is.
 */
function trainingOutput(output: unknown): unknown {
  return typeof output === "string" && /^(https?|data):/.test(output) ? { weights: output } : output;
}

export function renderTraining(r: HostedRecord): HostedTraining {
  const { urls: _predictionUrls, ...body } = renderHosted(r);
  return {
    ...body,
    destination: r.destination ?? null,
    output: body.output === null ? null : trainingOutput(body.output),
    urls: trainingUrls(r.base, r.prediction.id),
  };
}

/** Either JSON, by the record's kind (webhooks render whatever the record is). */
export function renderRecord(r: HostedRecord): HostedPrediction | HostedTraining {
  return r.prediction.kind === "train" ? renderTraining(r) : renderHosted(r);
}
