/**
 * Queue mode (--queue redis://...): replicas consume their version's Redis stream through the
 * consumer group, and a gateway (node /kiln/gateway.mjs, shipped in every kiln image) serves /v1 with
 * its state in Redis. The contract with the server (docs/fleet.md): KILN_QUEUE, KILN_MODEL,
 * KILN_MODEL_VERSION and KILN_DRAIN_TIMEOUT for replicas, KILN_REDIS for gateways, the stream
 * `kiln:queue:<version>` and the group `replicas`, which KEDA watches.
 */
import type { DeployFacts } from "./facts.js";
import type { DeployOptions } from "./options.js";

export const GATEWAY_COMMAND = ["node", "/kiln/gateway.mjs"];
const QUEUE_PREFIX = "kiln:";
export const CONSUMER_GROUP = "replicas";
/** The gateway holds no model: small requests. */
export const GATEWAY_RESOURCES = { cpu: "250m", memory: "256Mi" };

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
}

/** The parts KEDA needs from a redis:// URL (checked by options.ts to be one). */
export function redisTarget(url: string): RedisTarget {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, "");
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: db === "" ? 0 : Number(db),
    tls: u.protocol === "rediss:",
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** The stream a version's predictions wait in. */
export function streamKey(facts: DeployFacts): string {
  return `${QUEUE_PREFIX}queue:${facts.version}`;
}

/** Environment of a queue-mode replica, apart from KILN_QUEUE itself (which may come from a Secret). */
export function replicaEnv(facts: DeployFacts): Record<string, string> {
  return {
    KILN_MODEL: facts.model,
    KILN_MODEL_VERSION: facts.version,
    KILN_DRAIN_TIMEOUT: String(facts.drainSeconds),
  };
}

export function gatewayImage(facts: DeployFacts, o: DeployOptions): string {
  return o.gatewayImage ?? facts.image;
}

/** Swarm: the stack runs its own Redis when --queue names the stack's `redis` service. */
export function stackRunsRedis(o: DeployOptions): boolean {
  return o.queue !== undefined && redisTarget(o.queue).host === "redis";
}
