/**
 * Container entry (bundled to /kiln/server.mjs): `node /kiln/server.mjs [--host H] [--port P]
 * [--upload-url U] [--await-explicit-shutdown]` with KILN_PREDICTOR etc. in the environment.
 * SIGTERM/SIGINT: stop accepting, let in-flight predictions finish (bounded), exit 0. With KILN_QUEUE
 * (redis://...) it also consumes its version's Redis stream (queue mode, src/fleet/replica.ts).
 *
 * Start-up order matters for the time to READY: the worker is started (held, see worker-supervisor.ts)
 * before the server's modules are even evaluated (server.js is imported dynamically, so the bundle
 * initialises it on first use), and the two processes then boot side by side.
 */
import { ConfigError, configFromEnv } from "./config.js";
import { createLogger } from "./logger.js";
import { READY_LOG_MESSAGE } from "./ready-file.js";
import { mainTarget, nodeWorkerModeFor, workerCommand } from "./worker-command.js";
import { WorkerSupervisor } from "./worker-supervisor.js";

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
  const logger = createLogger({ level: options.logLevel ?? "info", format: options.logFormat ?? "json" });
  const { mode, notice } = nodeWorkerModeFor(options.nodeWorkerMode, {
    cwd: process.cwd(),
    root: options.root,
  });
  if (notice && mainTarget(options).language === "node") logger.info(notice);
  options = { ...options, nodeWorkerMode: mode };
  const worker = new WorkerSupervisor(workerCommand(options), logger);
  worker.start({ hold: true });
  let server;
  // Queue mode (kiln serve --queue): bundled in, loaded only when asked for.
  let fleet = null;
  try {
    fleet = process.env.KILN_QUEUE ? await import("../fleet/replica-env.js") : null;
    if (fleet) options = await fleet.withFleetCache(options, process.env);
    const { startServer } = await import("./server.js");
    server = await startServer({ ...options, logger, worker });
  } catch (err) {
    // e.g. the port is taken: the worker (its own process group) must not outlive us.
    worker.kill("the server could not start");
    throw err;
  }
  void server.ready.then((status) => {
    // Seconds from process start: what an orchestrator waits for, measured where it happens.
    if (status === "READY")
      logger.info(READY_LOG_MESSAGE, { since_start_s: Number(process.uptime().toFixed(3)) });
  });
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
    const delayMs = signal === "SIGTERM" ? (options.shutdownDelayMs ?? 0) : 0;
    if (delayMs > 0) {
      server.setReady(false);
      server.logger.info("SIGTERM: still answering while routing moves away, then stopping", {
        delay_s: delayMs / 1000,
      });
      setTimeout(() => void server.close(), delayMs);
      return;
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
