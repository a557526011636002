/**
 * What the fleet output-cache tests share (redis-server comes from fleet-helpers' startRedis):
 * a fleet cache store on a shared blob directory, and reading Prometheus text.
 */
import { makeKeys } from "../../src/fleet/keys.js";
import { RedisCacheStore } from "../../src/fleet/redis-cache-store.js";
import { RedisConnection } from "../../src/fleet/redis.js";
import type { CacheLimits } from "../../src/runtime/cache/store.js";

export const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A fleet cache store with a connection of its own, as each replica opens one. */
export async function openStore(
  redisUrl: string,
  dir: string,
  o: { limits?: Partial<CacheLimits>; lockMs?: number; now?: () => number; prefix?: string } = {},
): Promise<RedisCacheStore> {
  const conn = new RedisConnection(redisUrl, { offlineQueue: false, name: "kiln-test-cache", logger: quiet });
  await conn.waitReady(10_000);
  return new RedisCacheStore({
    conn,
    keys: makeKeys(o.prefix).cache,
    dir,
    limits: o.limits,
    lockMs: o.lockMs,
    now: o.now,
    logger: quiet,
    ownsConnection: true,
  });
}

/** One sample of a Prometheus text exposition (no labels), or undefined when absent. */
export function metric(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
