/**
 * The gateway entry in the runtime bundle (dist/runtime-bundle/gateway.mjs, /kiln/gateway.mjs in every
 * kiln image): `node /kiln/gateway.mjs --redis redis://HOST:PORT [--port P] [--host H]`, or the same
 * from the environment (KILN_REDIS, PORT, KILN_API_TOKEN, KILN_WEBHOOK_SECRET, KILN_QUEUE_SIZE,
 * KILN_QUEUE_PREFIX). So a Swarm or Kubernetes deployment runs the gateway from the model image itself.
 */
import { createLogger, parseLogLevel } from "../runtime/logger.js";
import { startGateway, type GatewayOptions } from "./gateway.js";
import { gatewayConfig, GatewayUsageError } from "./gateway-config.js";

async function main(): Promise<void> {
  let options: GatewayOptions;
  try {
    options = gatewayConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof GatewayUsageError) {
      process.stderr.write(`kiln gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const format = (process.env.LOG_FORMAT ?? "json").toLowerCase() === "console" ? "console" : "json";
  const logger = createLogger({ level: parseLogLevel(process.env.COG_LOG_LEVEL, "info"), format });
  const gateway = await startGateway({ ...options, logger });
  let signals = 0;
  const stop = (): void => {
    if (++signals > 1) process.exit(0);
    void gateway.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`kiln gateway: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
