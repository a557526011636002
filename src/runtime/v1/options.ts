/** Options of the hosted /v1 API, with their environment fallbacks (KILN_API_TOKEN etc.). */
import { positiveInt } from "../config.js";
import type { FileLimitsV1 } from "./files-store.js";

export interface HostedOptions {
  /** Required bearer token on /v1 (except stream URLs); unset = any token accepted. */
  apiToken?: string | undefined;
  /** `whsec_...` signing secret for /v1 webhooks; generated once per server when unset. */
  webhookSecret?: string | undefined;
  /** Predictions allowed to wait for a slot before /v1 answers 429. */
  queueSize?: number | undefined;
  /** `owner/name` reported for predictions created with a version. */
  model?: string | undefined;
  /** The version id: the image digest, or a content hash of the project (default: hash of the predictor). */
  version?: string | undefined;
  /** Items per page of GET /v1/predictions and /v1/files. */
  pageSize?: number | undefined;
  /** Finished /v1 predictions kept for get/list/stream. */
  retain?: number | undefined;
  /** Byte budget of the finished /v1 predictions kept (inputs, outputs, logs); oldest evicted first. */
  retainBytes?: number | undefined;
  fileLimits?: Partial<FileLimitsV1> | undefined;
}

export const DEFAULT_QUEUE_SIZE = 64;
export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_RETAIN = 1000;

class HostedConfigError extends Error {}

/** Explicit options win; KILN_API_TOKEN, KILN_WEBHOOK_SECRET, KILN_QUEUE_SIZE, KILN_MODEL, KILN_MODEL_VERSION, KILN_RETAIN_BYTES fill gaps. */
export function resolveHostedOptions(
  explicit: HostedOptions | undefined,
  env: NodeJS.ProcessEnv,
): HostedOptions {
  const o = explicit ?? {};
  return {
    ...o,
    apiToken: o.apiToken ?? (env.KILN_API_TOKEN || undefined),
    webhookSecret: o.webhookSecret ?? (env.KILN_WEBHOOK_SECRET || undefined),
    queueSize: o.queueSize ?? positiveInt(env.KILN_QUEUE_SIZE, "KILN_QUEUE_SIZE", HostedConfigError),
    model: o.model ?? (env.KILN_MODEL || undefined),
    version: o.version ?? (env.KILN_MODEL_VERSION || undefined),
    retainBytes: o.retainBytes ?? positiveInt(env.KILN_RETAIN_BYTES, "KILN_RETAIN_BYTES", HostedConfigError),
  };
}
