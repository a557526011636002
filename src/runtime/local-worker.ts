/**
 * What a host process needs to start the model's worker before the server's modules load (see
 * local-server.ts): the settings it reads, the logger, the worker command and its supervisor.
 */
export { ConfigError, cogRuntimeSettings, nodeWorkerModeFromEnv } from "./config.js";
export { createLogger, parseLogLevel } from "./logger.js";
export { mainTarget, nodeWorkerModeFor, workerCommand } from "./worker-command.js";
export { WorkerSupervisor } from "./worker-supervisor.js";
