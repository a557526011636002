/** The gateway entry's flags and environment -> GatewayOptions (pure, unit-tested). */
import { positiveInt } from "../runtime/config.js";
import type { GatewayOptions } from "./gateway.js";
import { parseRedisUrl } from "./redis.js";

export class GatewayUsageError extends Error {}

export function gatewayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GatewayOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(redis|port|host)(?:=(.*))?$/.exec(a);
    if (!m)
      throw new GatewayUsageError(`unknown argument ${JSON.stringify(a)} (known: --redis, --port, --host)`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new GatewayUsageError(`--${m[1]} needs a value`);
    flags.set(m[1]!, v);
  }
  const redisUrl = flags.get("redis") ?? env.KILN_REDIS;
  if (!redisUrl) throw new GatewayUsageError("no Redis: pass --redis redis://HOST:PORT (or set KILN_REDIS)");
  try {
    parseRedisUrl(redisUrl);
  } catch (err) {
    throw new GatewayUsageError((err as Error).message);
  }
  const port = positiveInt(flags.get("port") ?? env.PORT, "PORT", GatewayUsageError) ?? 5000;
  return {
    redisUrl,
    port,
    host: flags.get("host") ?? "0.0.0.0",
    apiToken: env.KILN_API_TOKEN || undefined,
    webhookSecret: env.KILN_WEBHOOK_SECRET || undefined,
    queueSize: positiveInt(env.KILN_QUEUE_SIZE, "KILN_QUEUE_SIZE", GatewayUsageError),
    prefix: env.KILN_QUEUE_PREFIX || undefined,
  };
}
