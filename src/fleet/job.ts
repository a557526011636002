/**
 * A queued prediction as it travels through Redis: what the gateway validated and the replica needs to
 * run it and to render its hosted JSON (webhooks). The clear input (secrets included) lives only here,
 * inside Redis; every rendered form uses `publicInput`.
 */
import type { PredictorKind } from "../runtime/protocol.js";
import type { CacheDirective } from "../runtime/cache/policy.js";
import type { WebhookEvent } from "../runtime/webhooks.js";

const DIRECTIVES: ReadonlySet<string> = new Set<CacheDirective>(["use", "bypass", "refresh"]);

export interface Job {
  id: string;
  /** A prediction, or a training (the version's trainer runs it; its output files go to Redis files). */
  kind: PredictorKind;
  /** Trainings: the `owner/name` the client asked the trained version to go to. */
  destination: string | null;
  model: string;
  version: string;
  /** Origin the client used (urls.* and webhook bodies). */
  base: string;
  input: Record<string, unknown>;
  publicInput: Record<string, unknown>;
  iterator: boolean;
  created_at: string;
  webhook: { url: string; filter: WebhookEvent[] } | null;
  /** Input URLs that name gateway uploads (/v1/files): URL -> file id, fetched from Redis by the replica. */
  files: Record<string, string>;
  /** The request's Cache-Control for the replica's output cache (no-store: bypass, no-cache: refresh). */
  cache: CacheDirective;
}

export class JobFormatError extends Error {}

export function encodeJob(job: Job): string {
  return JSON.stringify(job);
}

export function decodeJob(text: string | null | undefined): Job {
  if (!text) throw new JobFormatError("the prediction has no job record");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new JobFormatError("the job record is not JSON");
  }
  const j = v as Partial<Job> | null;
  if (
    !j ||
    typeof j.id !== "string" ||
    typeof j.version !== "string" ||
    typeof j.model !== "string" ||
    typeof j.input !== "object" ||
    typeof j.created_at !== "string"
  )
    throw new JobFormatError("the job record lacks id, model, version, input or created_at");
  return {
    id: j.id,
    kind: j.kind === "train" ? "train" : "predict",
    destination: typeof j.destination === "string" ? j.destination : null,
    model: j.model,
    version: j.version,
    base: typeof j.base === "string" ? j.base : "http://127.0.0.1",
    input: j.input ?? {},
    publicInput: j.publicInput ?? {},
    iterator: j.iterator === true,
    created_at: j.created_at,
    webhook: j.webhook ?? null,
    files: j.files ?? {},
    // A job queued by an older gateway has none: the default, as for a request without Cache-Control.
    cache: typeof j.cache === "string" && DIRECTIVES.has(j.cache) ? j.cache : "use",
  };
}
