import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { parsePort, parsePositiveInteger } from "../flags.js";

interface GatewayFlags {
  redis: string;
  port: string;
  host: string;
  apiToken?: string;
  webhookSecret?: string;
  queueSize: string;
}

export function registerGateway(program: Command, context: () => CommandContext): void {
  program
    .command("gateway")
    .description("run the hosted /v1 API in front of a fleet of kiln serve --queue replicas (state in Redis)")
    .requiredOption("--redis <url>", "the fleet's Redis, e.g. redis://127.0.0.1:6379")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--api-token <token>", "require this bearer token (also KILN_API_TOKEN)")
    .option(
      "--webhook-secret <whsec>",
      "sign webhooks with this whsec_ secret (default: one shared via Redis)",
    )
    .option("--queue-size <n>", "predictions that may wait per model version before 429", "64")
    .action(async (flags: GatewayFlags) => {
      const queueSize = parsePositiveInteger(flags.queueSize, "--queue-size");
      const { runGateway } = await import("../../session/gateway.js");
      await runGateway(context(), {
        redisUrl: flags.redis,
        port: parsePort(flags.port),
        host: flags.host,
        apiToken: flags.apiToken ?? process.env["KILN_API_TOKEN"],
        webhookSecret: flags.webhookSecret ?? process.env["KILN_WEBHOOK_SECRET"],
        queueSize,
      });
    });
}
