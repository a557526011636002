/** Queue mode from the container's environment (KILN_QUEUE etc., see options.ts). */
import type { RunningServer, ServerOptions } from "../runtime/server.js";
import { createLogger } from "../runtime/logger.js";
import { makeKeys } from "./keys.js";
import { queueFromEnv } from "./options.js";
import { RedisConnection } from "./redis.js";
import { RedisCacheStore } from "./redis-cache-store.js";
import { startQueueReplica, type QueueReplica } from "./replica.js";

export async function startReplicaFromEnv(
  server: RunningServer,
  env: NodeJS.ProcessEnv,
): Promise<QueueReplica | null> {
  const q = queueFromEnv(env);
  if (!q) return null;
  return startQueueReplica(server, q);
}

/**
 * Queue mode with an output cache (KILN_CACHE_DIR): the fleet's shared store instead of a private
 * directory, its index in the queue's Redis and its blobs in KILN_CACHE_DIR, which every replica of the
 * fleet must mount (docs/cache.md). Options unchanged without KILN_QUEUE or without a cache.
 */
export async function withFleetCache(options: ServerOptions, env: NodeJS.ProcessEnv): Promise<ServerOptions> {
  const q = queueFromEnv(env);
  const cache = options.cache;
  if (!q || !cache || cache.store) return options;
  // The server's own logger, made here so the store logs the same way.
  const logger =
    options.logger ??
    createLogger({ level: options.logLevel ?? "info", format: options.logFormat ?? "json" });
  const lockMs = q.cacheLockMs;
  const conn = new RedisConnection(q.redisUrl, { offlineQueue: false, name: "kiln-replica-cache", logger });
  try {
    await conn.waitReady(10_000);
  } catch (err) {
    await conn.close();
    throw err;
  }
  const store = new RedisCacheStore({
    conn,
    keys: makeKeys(q.prefix).cache,
    dir: cache.dir,
    limits: {
      ...(cache.maxBytes !== undefined ? { maxBytes: cache.maxBytes } : {}),
      ...(cache.ttlMs !== undefined ? { ttlMs: cache.ttlMs } : {}),
    },
    lockMs,
    logger,
    ownsConnection: true,
  });
  store.startSweeping();
  return { ...options, logger, cache: { ...cache, store } };
}
