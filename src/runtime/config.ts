/**
 * The container entry's configuration: Cog's flags and env vars (plus kiln's KILN_*) -> ServerOptions.
 * Pure, so it is unit-tested; main.ts only wires process signals around it.
 */
import { extname } from "node:path";
import { existsSync } from "node:fs";
import { parseLogLevel } from "./logger.js";
import { DEFAULT_FILE_LIMITS } from "./files.js";
import { DEFAULT_READY_FILE } from "./ready-file.js";
import type { ServerOptions, WorkerTarget } from "./server.js";
import type { NodeWorkerMode } from "./worker-command.js";

export class ConfigError extends Error {}

function parseTarget(value: string, variable: string, language?: string): WorkerTarget {
  const i = value.lastIndexOf(":");
  if (i <= 0 || i === value.length - 1)
    throw new ConfigError(`${variable} must look like "file:name", got ${JSON.stringify(value)}`);
  const file = value.slice(0, i);
  const name = value.slice(i + 1);
  const ext = extname(file).toLowerCase();
  const lang = language ?? (ext === ".py" ? "python" : [".js", ".mjs", ".cjs"].includes(ext) ? "node" : null);
  if (lang !== "python" && lang !== "node") {
    throw new ConfigError(
      `${variable}: cannot run ${file} directly (${ext || "no extension"}); TypeScript predictors are compiled to .mjs at build time`,
    );
  }
  return { language: lang, file, name };
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`${name} must be a number of seconds, got ${JSON.stringify(raw)}`);
  return Math.round(n * 1000);
}

/** `raw` as a positive integer (undefined when unset); `Err` lets /v1 options keep their own error class. */
export function positiveInt(
  raw: string | undefined,
  name: string,
  Err: new (message: string) => Error = ConfigError,
): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Err(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The COG_* runtime settings in `env` (the image's ENV, or cog.yaml `environment:` with --no-docker).
 * COG_SETUP_TIMEOUT=0 means no timeout, as in Cog.
 */
export function cogRuntimeSettings(
  env: NodeJS.ProcessEnv,
): Pick<
  ServerOptions,
  "maxConcurrency" | "setupTimeoutMs" | "throttleMs" | "streamHistoryCapacity" | "weights"
> {
  const settings: ReturnType<typeof cogRuntimeSettings> = {};
  const max = positiveInt(env.COG_MAX_CONCURRENCY, "COG_MAX_CONCURRENCY");
  if (max !== undefined) settings.maxConcurrency = max;
  const setup = seconds(env, "COG_SETUP_TIMEOUT");
  if (setup !== undefined) settings.setupTimeoutMs = setup;
  const throttle = seconds(env, "COG_THROTTLE_RESPONSE_INTERVAL");
  if (throttle !== undefined) settings.throttleMs = throttle;
  const history = positiveInt(env.COG_STREAM_HISTORY_CAPACITY, "COG_STREAM_HISTORY_CAPACITY");
  if (history !== undefined) settings.streamHistoryCapacity = history;
  if (env.COG_WEIGHTS) settings.weights = env.COG_WEIGHTS;
  return settings;
}

/**
 * KILN_NODE_WORKER_MODE: how a TS/JS predictor runs. `thread` (the default): in a worker thread of the
 * server's process; `process`: in a node process of its own (the isolation of before, at the cost of a
 * second process). Anything else is a start-up error naming the two.
 */
export function nodeWorkerModeFromEnv(env: NodeJS.ProcessEnv): NodeWorkerMode | undefined {
  const raw = env.KILN_NODE_WORKER_MODE;
  if (raw === undefined || raw === "") return undefined;
  const mode = raw.trim().toLowerCase();
  if (mode === "thread" || mode === "process") return mode;
  throw new ConfigError(
    `KILN_NODE_WORKER_MODE must be "thread" (the default: a worker thread of the server) or "process" (a node process of its own), got ${JSON.stringify(raw)}`,
  );
}

function nonNegativeInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a whole number (0 or more), got ${JSON.stringify(raw)}`);
  return n;
}

/** Flags: --host H, --port P, --upload-url U, --await-explicit-shutdown [true|false]. */
export function configFromEnv(argv: readonly string[], env: NodeJS.ProcessEnv): ServerOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new ConfigError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    const [key, inline] = eq > 0 ? [a.slice(2, eq), a.slice(eq + 1)] : [a.slice(2), undefined];
    if (key === "await-explicit-shutdown") {
      const next = argv[i + 1];
      const v = inline ?? (next === "true" || next === "false" ? (i++, next) : "true");
      flags.set(key, v);
    } else if (["host", "port", "upload-url"].includes(key)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ConfigError(`--${key} needs a value`);
      flags.set(key, v);
    } else {
      throw new ConfigError(
        `unknown flag --${key} (known: --host, --port, --upload-url, --await-explicit-shutdown)`,
      );
    }
  }
  const predictor = env.KILN_PREDICTOR;
  // A train-only model (cog.yaml `train:` without `predict:`) has KILN_TRAIN alone.
  if (!predictor && !env.KILN_TRAIN)
    throw new ConfigError(
      'neither KILN_PREDICTOR nor KILN_TRAIN is set (expected "file:name", e.g. predict.py:Predictor)',
    );
  const language = env.KILN_PREDICTOR_LANGUAGE || undefined;
  const format = (env.LOG_FORMAT ?? "json").toLowerCase();
  return {
    root: env.KILN_ROOT || "/src",
    predictor: predictor ? parseTarget(predictor, "KILN_PREDICTOR", language) : undefined,
    train: env.KILN_TRAIN ? parseTarget(env.KILN_TRAIN, "KILN_TRAIN", language) : undefined,
    host: flags.get("host") ?? "0.0.0.0",
    port: positiveInt(flags.get("port") ?? env.PORT, "PORT") ?? 5000,
    uploadUrl: flags.get("upload-url"),
    awaitExplicitShutdown: flags.get("await-explicit-shutdown") === "true",
    shutdownDelayMs: seconds(env, "KILN_SHUTDOWN_DELAY"),
    weights: null,
    ...cogRuntimeSettings(env),
    webhookAuthToken: env.WEBHOOK_AUTH_TOKEN || undefined,
    logLevel: parseLogLevel(env.COG_LOG_LEVEL, "info"),
    logFormat: format === "console" ? "console" : "json",
    python: env.KILN_PYTHON || undefined,
    readyFile: readyFile(env),
    maxWorkerRestarts: nonNegativeInt(env.KILN_WORKER_RESTARTS, "KILN_WORKER_RESTARTS"),
    cancelGraceMs: seconds(env, "KILN_CANCEL_GRACE"),
    nodeWorkerMode: nodeWorkerModeFromEnv(env),
    drainTimeoutMs: seconds(env, "KILN_DRAIN_TIMEOUT"),
    ...(env.KILN_DENY_PRIVATE_URLS === "1" || env.KILN_DENY_PRIVATE_URLS === "true"
      ? { fileLimits: { ...DEFAULT_FILE_LIMITS, denyPrivateAddresses: true } }
      : {}),
    cache: cacheFromEnv(env),
  };
}

/** KILN_CACHE_DIR turns the output cache on; the version id keys it, so it must be known. */
function cacheFromEnv(env: NodeJS.ProcessEnv): ServerOptions["cache"] {
  const dir = env.KILN_CACHE_DIR;
  if (!dir) return undefined;
  const version = env.KILN_CACHE_VERSION || env.KILN_MODEL_VERSION;
  if (!version)
    throw new ConfigError(
      "KILN_CACHE_DIR is set but the model's version id is not: set KILN_MODEL_VERSION (kiln serve --cache does)",
    );
  const maxBytes = positiveInt(env.KILN_CACHE_MAX_BYTES, "KILN_CACHE_MAX_BYTES");
  const ttlMs = seconds(env, "KILN_CACHE_TTL");
  return {
    dir,
    version,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  };
}

/**
 * KILN_READY_FILE (empty: none); by default /var/run/cog/ready inside a container (Docker's /.dockerenv,
 * or a Kubernetes pod), never on a developer's machine where several servers may run.
 */
export function readyFile(env: NodeJS.ProcessEnv, inContainer = existsSync("/.dockerenv")): string | null {
  if (env.KILN_READY_FILE !== undefined) return env.KILN_READY_FILE || null;
  return inContainer || env.KUBERNETES_SERVICE_HOST ? DEFAULT_READY_FILE : null;
}
