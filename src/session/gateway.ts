/** `kiln gateway`: the fleet's /v1 API in this process until Ctrl-C (or SIGTERM). */
import type { RunContext } from "../context.js";
import { RuntimeStartError, UsageError } from "../errors.js";
import { createLogger } from "../runtime/logger.js";

export interface GatewayRunOptions {
  redisUrl: string;
  port: number;
  host: string;
  apiToken?: string | undefined;
  webhookSecret?: string | undefined;
  queueSize: number;
}

export async function runGateway(ctx: RunContext, o: GatewayRunOptions): Promise<void> {
  const { parseRedisUrl, RedisUrlError } = await import("../fleet/redis.js");
  try {
    parseRedisUrl(o.redisUrl);
  } catch (err) {
    if (err instanceof RedisUrlError) throw new UsageError(err.message);
    throw err;
  }
  const { InvalidWebhookSecretError } = await import("../runtime/v1/signing.js");
  const { startGateway } = await import("../fleet/gateway.js");
  const logger = createLogger({
    level: ctx.debug ? "debug" : "info",
    format: "console",
    write: (line) => void ctx.out.stderr.write(line),
  });
  let gateway;
  try {
    gateway = await startGateway({ ...o, logger });
  } catch (err) {
    if (err instanceof InvalidWebhookSecretError) throw new UsageError(err.message);
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(`port ${o.port} on ${o.host} is already in use`, "Choose another with -p PORT.");
    throw new RuntimeStartError(`the gateway could not start: ${(err as Error).message}`, {
      hint: "Is Redis running at that URL? (e.g. redis-server --port 6379)",
    });
  }
  ctx.out.info(`Gateway ready: ${gateway.url}/v1 (Redis ${o.redisUrl}). Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    process.once("SIGTERM", () => resolve());
  });
  ctx.out.info("Stopping the gateway...");
  await gateway.close();
}
