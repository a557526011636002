/**
 * Container entry (bundled to /kiln/server.mjs): `node /kiln/server.mjs [--host H] [--port P]
 * [--upload-url U] [--await-explicit-shutdown]` with KILN_PREDICTOR etc. in the environment.
 * SIGTERM/SIGINT: stop accepting, let in-flight predictions finish (bounded), exit 0. With KILN_QUEUE
 * (redis://...) it also consumes its version's Redis stream (queue mode, src/fleet/replica.ts).
 */
import { ConfigError, configFromEnv } from "./config.js";
import { startServer } from "./server.js";

async function main(): Promise<void> {
  let options;
  try {
    options = configFromEnv(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kiln server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Queue mode (kiln serve --queue): bundled in, loaded only when asked for.
  const fleet = process.env.KILN_QUEUE ? await import("../fleet/replica-env.js") : null;
  if (fleet) options = await fleet.withFleetCache(options, process.env);
  const server = await startServer(options);
  if (fleet) await fleet.startReplicaFromEnv(server, process.env);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signal === "SIGTERM" && options.awaitExplicitShutdown) {
      server.logger.info("SIGTERM ignored (--await-explicit-shutdown): POST /shutdown to stop");
      return;
    }
    if (++signals > 1) {
      server.logger.warn("second signal: exiting now");
      process.exit(0);
    }
    void server.close();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  await server.closed;
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`kiln server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
