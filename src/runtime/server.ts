/**
 * startServer(): the predict server used in images (src/runtime/main.ts) and by `kiln serve --no-docker`.
 * Wires worker supervision, health, the prediction core, webhooks and the HTTP routes together.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ResourceLimits } from "node:worker_threads";
import type { PredictorSchema } from "../schema/types.js";
import { buildOpenApi } from "../schema/openapi.js";
import { WorkerSupervisor } from "./worker-supervisor.js";
import { mainTarget, workerCommand, type NodeWorkerMode } from "./worker-command.js";
import { Health, type HealthStatus } from "./health.js";
import { PredictionRunner } from "./core/runner.js";
import { WebhookSender } from "./webhooks.js";
import { Router } from "./http/router.js";
import { registerContainerApi } from "./http/container-api.js";
import { registerPlayground } from "./http/playground.js";
import { applyCors, corsPolicy } from "./http/cors.js";
import { DEFAULT_BODY_LIMIT } from "./http/body.js";
import { createLogger, type LogFormat, type Logger, type LogLevel } from "./logger.js";
import type { FileLimits, LocalFileResolver } from "./files.js";
import type { MetricsRegistry } from "./metrics.js";
import { createServerMetrics, registerMetricsRoute } from "./server-metrics.js";
import { ReadyFile } from "./ready-file.js";
import { checkConnectionsOnlyWhenBusy } from "./idle-http.js";
import { RUNTIME_VERSION } from "./version.js";
import { DEFAULT_SSE_LIMITS, type SseLimits } from "./sse.js";
import { DEFAULT_WEBHOOK_DRAIN_MS, mountHostedApi, type HostedApi } from "./v1/hosted.js";
import { resolveHostedOptions, type HostedOptions } from "./v1/options.js";
import type { OutputCache } from "./cache/output-cache.js";
import type { CacheLimits, CacheStore } from "./cache/store.js";

export interface WorkerTarget {
  language: "python" | "node";
  /** The runnable file: a .py module, or a compiled .mjs/.js for node. Relative to root or absolute. */
  file: string;
  /** The export (node) or class/function (python) name. */
  name: string;
}

export interface ServerOptions {
  root: string;
  /** The `predict:` entry; absent for a train-only model (then `train` is required). */
  predictor?: WorkerTarget | undefined;
  train?: WorkerTarget | undefined;
  host: string;
  port: number;
  uploadUrl?: string | undefined;
  maxConcurrency?: number | undefined;
  setupTimeoutMs?: number | undefined;
  /** Cog semantics: SIGTERM is ignored (main.ts), only POST /shutdown stops the server. */
  awaitExplicitShutdown?: boolean | undefined;
  /**
   * KILN_SHUTDOWN_DELAY: after SIGTERM, keep answering (readiness withdrawn) this long before closing,
   * so a client that still resolves this task's address (Swarm DNS round robin) is not refused.
   */
  shutdownDelayMs?: number | undefined;
  /** Extra environment for the worker (on top of this process's environment). */
  env?: Record<string, string> | undefined;
  /** Python interpreter (default python3). */
  python?: string | undefined;
  logFormat?: LogFormat | undefined;
  logLevel?: LogLevel | undefined;
  logger?: Logger | undefined;
  webhookAuthToken?: string | undefined;
  /** Minimum interval between `logs` webhooks (COG_THROTTLE_RESPONSE_INTERVAL; default 500 ms). */
  throttleMs?: number | undefined;
  webhookRetryDelaysMs?: readonly number[] | undefined;
  bodyLimit?: number | undefined;
  /** Slowloris guards: time to receive the headers, and the whole request (not the response). */
  headersTimeoutMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
  /** Consecutive restarts of a worker that died after setup before giving up (0: never; default 10). */
  maxWorkerRestarts?: number | undefined;
  /** Backoff before restart 1, 2, ... (default 1, 2, 4, 8, 16, 30 s; the last repeats). */
  restartBackoffMs?: readonly number[] | undefined;
  /** Grace for a canceled prediction before its worker is killed and restarted (default 10 s). */
  cancelGraceMs?: number | undefined;
  /** Per-client SSE buffer cap and stall timeout (defaults: 1 MiB, 30 s). */
  sseLimits?: Partial<SseLimits> | undefined;
  /** How long close() keeps delivering webhooks (retries included) before abandoning them (5 s). */
  webhookDrainMs?: number | undefined;
  /** How long close() waits for in-flight predictions before canceling them (30 s). */
  drainTimeoutMs?: number | undefined;
  weights?: string | null | undefined;
  /** COG_STREAM_HISTORY_CAPACITY: events a late SSE subscriber can replay per prediction (default: all). */
  streamHistoryCapacity?: number | undefined;
  fileLimits?: FileLimits | undefined;
  /** Overrides for where the worker programs live (defaults: beside this bundle, or in src/dist). */
  nodeWorkerEntry?: string | undefined;
  /**
   * How a node predictor runs (KILN_NODE_WORKER_MODE): a worker thread of this process (default) or a
   * child process. The entry points (main.ts, --no-docker) pick process when the working directory is
   * not the project root (nodeWorkerModeFor).
   */
  nodeWorkerMode?: NodeWorkerMode | undefined;
  /** A worker thread's heap limits (default: V8's, or the server's --max-old-space-size). */
  nodeWorkerResourceLimits?: ResourceLimits | undefined;
  pythonWorkerDir?: string | undefined;
  /** Keep this many finished predictions for lookups (the /v1 facade); 0 for the container API. */
  retainCompleted?: number | undefined;
  /** The hosted /v1 API (api token, webhook secret, queue size, model/version); env KILN_* fills gaps. */
  hosted?: HostedOptions | undefined;
  /** The output cache (opt-in: the model declares it can be cached, and the server is given a store). */
  cache?: CacheOptions | undefined;
  /** Written while READY, removed otherwise (e.g. /var/run/cog/ready in images); null: none. */
  readyFile?: string | null | undefined;
  /** Extra CORS origins (comma separated, or `*`) besides loopback pages; env KILN_CORS_ORIGINS. */
  corsOrigins?: string | undefined;
  /** Where the built playground page is (default: beside the bundle, or dist/runtime-bundle/). */
  playgroundDir?: string | undefined;
  /**
   * A worker the caller already started, held (main.ts starts it before the rest of the server loads,
   * so both boot at the same time); its events are released once the server listens to them.
   */
  worker?: WorkerSupervisor | undefined;
}

export interface CacheOptions extends Partial<CacheLimits> {
  /** The local directory store (with `store`: that store's blob directory). */
  dir: string;
  /** The version id every key includes: the image id/digest, or the project's content hash. */
  version: string;
  /** A store the caller opened instead of the directory store (queue mode: the fleet's, in Redis). */
  store?: CacheStore | undefined;
}

/** The output cache's modules load only for a server given one (a chunk of their own in the bundle). */
async function openOutputCache(o: CacheOptions): Promise<OutputCache> {
  const [{ DirCacheStore }, { OutputCache }] = await Promise.all([
    import("./cache/dir-store.js"),
    import("./cache/output-cache.js"),
  ]);
  const store =
    o.store ??
    (await DirCacheStore.open(o.dir, {
      ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
      ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}),
    }));
  return new OutputCache(store, o.version);
}

const DEFAULT_DRAIN_MS = 30_000;

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  router: Router;
  runner: PredictionRunner;
  health: Health;
  worker: WorkerSupervisor;
  logger: Logger;
  /** The hosted /v1 API: its webhook secret, version and queue. */
  hosted: HostedApi;
  /** Resolves once setup finished: READY, or SETUP_FAILED/DEFUNCT. */
  ready: Promise<HealthStatus>;
  /** Resolves after close() completed (e.g. after POST /shutdown). */
  closed: Promise<void>;
  close(): Promise<void>;
  /** Served at /metrics; queue mode adds its own families. */
  metrics: MetricsRegistry;
  /** The model's OpenAPI document once the schema is known. */
  openapi: () => unknown;
  /** Extra resolvers for file inputs that need no HTTP (queue mode: uploads fetched from Redis). */
  fileResolvers: LocalFileResolver[];
  /** Runs first when the server stops (queue mode: stop taking work, finish or hand back what runs). */
  onShutdown(hook: () => Promise<void>): void;
  /** Marks the server not ready (readiness file removed) without stopping it. */
  setReady(ready: boolean): void;
  /**
   * Keeps the readiness file away until the returned release is called, even once setup is done
   * (queue mode: a replica is ready when its version is registered and routable, not before).
   */
  holdReadiness(): () => void;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger =
    options.logger ??
    createLogger({ level: options.logLevel ?? "info", format: options.logFormat ?? "json" });
  const worker = options.worker ?? new WorkerSupervisor(workerCommand(options), logger);
  const health = new Health(worker, {
    setupTimeoutMs: options.setupTimeoutMs,
    weights: options.weights ?? null,
    logger,
    maxRestarts: options.maxWorkerRestarts,
    restartBackoffMs: options.restartBackoffMs,
  });
  const schema = (): PredictorSchema | null => health.loaded?.schema ?? null;
  // options.env counts too: `kiln serve --no-docker` passes KILN_API_TOKEN there, as it does to a container.
  const hostedOptions = resolveHostedOptions(options.hosted, { ...process.env, ...options.env });
  const fileResolvers: LocalFileResolver[] = [];
  const outputCache = options.cache ? await openOutputCache(options.cache) : undefined;
  const runner = new PredictionRunner({
    worker,
    schema,
    capacity: options.maxConcurrency ?? 1,
    logger,
    uploadUrl: options.uploadUrl,
    fileLimits: options.fileLimits,
    retainCompleted: options.retainCompleted ?? 0,
    historyCapacity: options.streamHistoryCapacity,
    cancelGraceMs: options.cancelGraceMs,
    localFile: (url) => {
      const own = hosted.resolveFile(url);
      if (own) return own;
      for (const r of fileResolvers) {
        const found = r(url);
        if (found) return found;
      }
      return null;
    },
    cache: outputCache,
    onStrayOutput: (source, data) => {
      if (!health.addSetupLog(data)) logger.info("worker output outside a prediction", { source, data });
    },
  });
  worker.on("message", (m) => {
    // @cog.concurrent(max=N) sets the slots unless COG_MAX_CONCURRENCY (or the caller) chose them.
    if (m.type === "loaded" && m.concurrency !== undefined && options.maxConcurrency === undefined) {
      runner.capacity = m.concurrency;
    }
    if (m.type === "loaded" && !m.async && runner.capacity > 1) {
      logger.warn("the predictor is synchronous: running one prediction at a time", {
        requested: runner.capacity,
      });
      runner.capacity = 1;
    }
  });
  const sender = new WebhookSender({
    authToken: options.webhookAuthToken,
    retryDelaysMs: options.webhookRetryDelaysMs,
    logger,
  });
  let openapiCache: unknown = null;
  // Shared by the container API (/openapi.json) and /v1 (models/versions).
  const openapi = (): unknown => {
    const s = schema();
    if (s && !openapiCache) openapiCache = buildOpenApi(s, { kilnVersion: RUNTIME_VERSION });
    return openapiCache;
  };
  const router = new Router(logger);
  const sse: SseLimits = { ...DEFAULT_SSE_LIMITS, ...options.sseLimits };
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => (closing ??= shutdown());
  registerContainerApi(router, {
    runner,
    health,
    sender,
    throttleMs: options.throttleMs ?? 500,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    hasTrainer: options.train !== undefined,
    hasPredictor: options.predictor !== undefined,
    openapi,
    version: { kiln: RUNTIME_VERSION, cog: `kiln-${RUNTIME_VERSION}` },
    requestShutdown: () => void close(),
    port: () => hosted.port,
    sse,
  });
  const hosted = mountHostedApi(router, {
    runner,
    health,
    logger,
    throttleMs: options.throttleMs ?? 500,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    openapi,
    cogVersion: `kiln-${RUNTIME_VERSION}`,
    root: options.root,
    predictorFile: mainTarget(options).file,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs,
    options: hostedOptions,
    sse,
  });
  registerPlayground(router, { dir: options.playgroundDir });
  const cors = corsPolicy(
    options.corsOrigins ?? options.env?.KILN_CORS_ORIGINS ?? process.env.KILN_CORS_ORIGINS,
  );

  let stopping = false;
  const metrics = createServerMetrics({
    runner,
    health,
    worker,
    queue: hosted.queue,
    cache: outputCache,
    stopping: () => stopping,
  });
  registerMetricsRoute(router, metrics);
  const readyFile = new ReadyFile(options.readyFile ?? null, logger);
  readyFile.set(false); // a file left by an earlier run must not claim readiness during setup
  let acceptingWork = true;
  let readinessHolds = 0;
  const setReady = (ready: boolean): void => {
    if (!ready) acceptingWork = false;
    readyFile.set(ready && acceptingWork && health.ready && readinessHolds === 0);
  };
  const holdReadiness = (): (() => void) => {
    readinessHolds++;
    readyFile.set(false);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      readinessHolds--;
      setReady(true);
    };
  };
  health.on("ready", () => setReady(true));
  health.on("failed", () => setReady(false));
  health.on("defunct", () => setReady(false));
  const shutdownHooks: (() => Promise<void>)[] = [];

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 15_000,
      requestTimeout: options.requestTimeoutMs ?? 120_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 1_000),
      noDelay: true,
    },
    (req, res) => {
      if (!applyCors(req, res, cors)) void router.handle(req, res);
    },
  );
  // Malformed requests and header/request timeouts: Node's default clientError answers 400/408/431.

  const ready = new Promise<HealthStatus>((resolve) => {
    health.once("ready", () => resolve("READY"));
    health.once("failed", () => resolve("SETUP_FAILED"));
    health.once("defunct", () => resolve("DEFUNCT"));
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  async function shutdown(): Promise<void> {
    stopping = true;
    setReady(false);
    for (const hook of shutdownHooks) {
      await hook().catch((err: unknown) => logger.error("shutdown hook failed", { err }));
    }
    logger.info("shutting down: no new connections, waiting for in-flight predictions");
    const stopped = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    hosted.queue.failAll("the server is shutting down");
    await runner.drain(options.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
    await outputCache
      ?.close()
      .catch((err: unknown) => logger.warn("could not close the output cache", { err }));
    // Both senders drain together, bounded: a dead receiver cannot hold the exit for its retries.
    const webhookDrain = options.webhookDrainMs ?? DEFAULT_WEBHOOK_DRAIN_MS;
    await Promise.all([hosted.dispose(webhookDrain), sender.close(webhookDrain)]);
    health.markStopping();
    await worker.stop();
    health.dispose();
    server.closeAllConnections();
    await stopped;
    logger.info("server stopped");
    resolveClosed();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  checkConnectionsOnlyWhenBusy(server);
  if (options.worker) worker.release();
  else worker.start();
  const port = (server.address() as AddressInfo).port;
  hosted.port = port;
  const host = options.host.includes(":")
    ? `[${options.host}]`
    : options.host === "0.0.0.0"
      ? "127.0.0.1"
      : options.host;
  const url = `http://${host}:${port}`;
  const entry = mainTarget(options);
  logger.info("server listening", {
    url,
    [options.predictor ? "predictor" : "trainer"]: `${entry.file}:${entry.name}`,
  });
  return {
    url,
    port,
    server,
    router,
    runner,
    health,
    worker,
    logger,
    hosted,
    ready,
    closed,
    close,
    metrics,
    openapi,
    fileResolvers,
    onShutdown: (hook) => void shutdownHooks.push(hook),
    setReady,
    holdReadiness,
  };
}
