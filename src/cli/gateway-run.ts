/** `kiln gateway`: the fleet's /v1 API in this process until Ctrl-C. */
import { UsageError, RuntimeStartError } from "../errors.js";
import { createLogger } from "../runtime/logger.js";
import type { CommandContext } from "./context.js";

export interface GatewayFlags {
  redis: string;
  port: string;
  host: string;
  apiToken?: string | undefined;
  webhookSecret?: string | undefined;
  queueSize: string;
}

export async function runGateway(ctx: CommandContext, flags: GatewayFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`-p must be a port number (0-65535), got ${JSON.stringify(flags.port)}`);
  const queueSize = Number(flags.queueSize);
  if (!Number.isInteger(queueSize) || queueSize < 1)
    throw new UsageError(`--queue-size must be a positive integer, got ${JSON.stringify(flags.queueSize)}`);
  const { parseRedisUrl, RedisUrlError } = await import("../fleet/redis.js");
  try {
    parseRedisUrl(flags.redis);
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
    gateway = await startGateway({
      redisUrl: flags.redis,
      port,
      host: flags.host,
      apiToken: flags.apiToken ?? process.env["KILN_API_TOKEN"],
      webhookSecret: flags.webhookSecret ?? process.env["KILN_WEBHOOK_SECRET"],
      queueSize,
      logger,
    });
  } catch (err) {
    if (err instanceof InvalidWebhookSecretError) throw new UsageError(err.message);
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(`port ${port} on ${flags.host} is already in use`, "Choose another with -p PORT.");
    throw new RuntimeStartError(`the gateway could not start: ${(err as Error).message}`, {
      hint: "Is Redis running at that URL? (redis-server --port 6379)",
    });
  }
  ctx.out.info(`Gateway ready: ${gateway.url}/v1 (Redis ${flags.redis}). Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    process.once("SIGTERM", () => resolve());
  });
  ctx.out.info("Stopping the gateway...");
  await gateway.close();
}
