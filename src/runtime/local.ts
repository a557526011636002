/**
 * The runtime as a host process runs it in-process (`kiln serve|predict --no-docker`,
 * src/session/local-model.ts): the server, its worker supervisor and the settings they read.
 * scripts/bundle-runtime.mjs also bundles this module into dist/local-runtime.mjs (one file, not copied
 * into images), which the CLI loads instead of the ~60 modules below when it is there.
 */
export { ConfigError, cogRuntimeSettings, nodeWorkerModeFromEnv } from "./config.js";
export { createLogger, parseLogLevel } from "./logger.js";
export { startServer } from "./server.js";
export { mainTarget, nodeWorkerModeFor, workerCommand } from "./worker-command.js";
export { WorkerSupervisor } from "./worker-supervisor.js";
