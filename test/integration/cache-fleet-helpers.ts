/**
 * What the fleet output-cache tests share: redis-server instances on this suite's ports (55000-55999),
 * a fleet cache store on a shared blob directory, and reading Prometheus text.
 */
import { createServer } from "node:net";
import { makeKeys } from "../../src/fleet/keys.js";
import { RedisCacheStore } from "../../src/fleet/redis-cache-store.js";
import { RedisConnection } from "../../src/fleet/redis.js";
import type { CacheLimits } from "../../src/runtime/cache/store.js";
import { startRedis, type RedisInstance } from "./fleet-helpers.js";

const PORT_BASE = 55000;
let nextOffset = (process.pid * 13) % 1000;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

export async function cachePort(): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = PORT_BASE + (nextOffset++ % 1000);
    if (await portFree(port)) return port;
  }
  throw new Error("no free port in 55000-55999");
}

/** A redis-server of our own (fails, never skips, without one: bash scripts/test-env.sh). */
export async function startCacheRedis(): Promise<RedisInstance> {
  return startRedis({ port: await cachePort() });
}

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
