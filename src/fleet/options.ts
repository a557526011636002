/** Fleet settings shared by replicas and gateways, their defaults, and the environment they come from. */
export type LostPolicy = "retry" | "fail";

export const FLEET_DEFAULTS = {
  /** A replica renews its lease every lease/3; an entry idle longer than this is reclaimed. */
  leaseMs: 30_000,
  onLost: "retry" as LostPolicy,
  /** Finished predictions (hash + events) stay this long in Redis. */
  retentionMs: 24 * 3600 * 1000,
  drainTimeoutMs: 30_000,
  /** Predictions allowed to wait per model version before the gateway answers 429. */
  queueSize: 64,
};

export class FleetConfigError extends Error {}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new FleetConfigError(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return Math.round(n * 1000);
}

export function parseLostPolicy(raw: string | undefined, name: string): LostPolicy | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (raw === "retry" || raw === "fail") return raw;
  throw new FleetConfigError(`${name} must be retry or fail, got ${JSON.stringify(raw)}`);
}

/** Queue mode's settings (a replica's options, also read from the environment). */
export interface QueueEnv {
  redisUrl: string;
  /** A prediction whose replica sent no heartbeat for this long is reclaimed (ms). */
  leaseMs?: number | undefined;
  /** What a reclaimed prediction does: run once more, or fail with a clear error. */
  onLost?: LostPolicy | undefined;
  /** How long finished predictions stay in Redis (ms). */
  retentionMs?: number | undefined;
  /** SIGTERM: how long running predictions may take before they are handed back (ms). */
  drainTimeoutMs?: number | undefined;
  prefix?: string | undefined;
  /** Output cache: how long a dead replica's single-flight lock holds identical predictions (ms). */
  cacheLockMs?: number | undefined;
}

/**
 * Queue mode from the environment (what `kiln serve --queue` passes to a container): KILN_QUEUE
 * (redis://...), KILN_QUEUE_LEASE, KILN_QUEUE_ON_LOST, KILN_QUEUE_RETENTION, KILN_DRAIN_TIMEOUT (seconds),
 * KILN_QUEUE_PREFIX, KILN_CACHE_LOCK_TIMEOUT (seconds). Null when KILN_QUEUE is unset.
 */
export function queueFromEnv(env: NodeJS.ProcessEnv): QueueEnv | null {
  const url = env.KILN_QUEUE;
  if (!url) return null;
  return {
    redisUrl: url,
    leaseMs: seconds(env, "KILN_QUEUE_LEASE"),
    onLost: parseLostPolicy(env.KILN_QUEUE_ON_LOST, "KILN_QUEUE_ON_LOST"),
    retentionMs: seconds(env, "KILN_QUEUE_RETENTION"),
    drainTimeoutMs: seconds(env, "KILN_DRAIN_TIMEOUT"),
    prefix: env.KILN_QUEUE_PREFIX || undefined,
    cacheLockMs: seconds(env, "KILN_CACHE_LOCK_TIMEOUT"),
  };
}
