/**
 * `kiln serve`: the model's HTTP server (container API and /v1) on the chosen port until Ctrl-C, which
 * stops and removes the container. The container's output is shown as it comes.
 */
import { createServer } from "node:net";
import type { RunContext } from "../context.js";
import { RuntimeStartError, UsageError } from "../errors.js";
import { health, notReadyError, waitForReady } from "../prediction/client.js";
import {
  interruptSignal,
  readinessOf,
  resolveModelSource,
  startContainer,
  type ModelSourceOptions,
} from "./model-source.js";
import { containerCache, planOutputCache } from "./output-cache.js";

export interface ServeOptions extends ModelSourceOptions {
  /** 0: any free port. */
  port: number;
  host: string;
  uploadUrl?: string | undefined;
  /** Bearer token required on /v1 (--api-token or KILN_API_TOKEN). */
  apiToken?: string | undefined;
  /** Interpreter for --no-docker Python predictors. */
  python: string;
  /** Queue mode (serve --queue): the KILN_QUEUE* / KILN_MODEL environment for the model server. */
  queueEnv?: Record<string, string> | undefined;
  /** Exit (status 1) when setup() fails, instead of serving SETUP_FAILED as Cog does. */
  exitOnSetupFailure?: boolean | undefined;
  /** --cache (true) or --cache DIR: the output cache, for a model that declares it may be cached. */
  cache?: boolean | string | undefined;
}

/** Setup may download weights for a long time; serve waits as long as it takes (Ctrl-C to stop). */
const SERVE_SETUP_TIMEOUT_MS = 24 * 3600 * 1000;

/** For commands built on serve (`kiln playground`): called once the model answers. */
export interface ServeHooks {
  onReady?: (url: string) => void | Promise<void>;
}

/** serve --no-docker --debug: where the start went, in ms since the previous step (CPU: this process). */
interface LocalServeTimings {
  /** Process start to this command: Node startup and the CLI's modules. */
  boot: number;
  /** cog.yaml found, read and checked (or its cached parse reused: --debug says which). */
  manifest?: number;
  /** The predictor's compile, or its cache check. */
  compile?: number;
  /** The worker spawned (thread or process). */
  worker?: number;
  /** The server's modules loaded and its port listening. */
  listen?: number;
  /** Listening to READY: the worker's boot, the predictor's import and setup(). */
  ready?: number;
  /** Process start to READY. */
  total?: number;
  /** CPU time of this process (all its threads) up to READY. */
  cpu?: number;
}

export async function runServe(ctx: RunContext, opts: ServeOptions, hooks: ServeHooks = {}): Promise<void> {
  const { port } = opts;
  const timings: LocalServeTimings = { boot: Math.round(performance.now()) };
  let mark = performance.now();
  const lap = (key: "manifest" | "compile" | "worker" | "listen" | "ready"): void => {
    const now = performance.now();
    timings[key] = Math.round(now - mark);
    mark = now;
  };
  // --no-docker: the local runner and the worker's part of the runtime load while the manifest is read
  // (startLocalModel awaits the same load, and reports its failure).
  const localModule = opts.docker ? undefined : import("./local-model.js");
  localModule
    ?.then((m) => m.loadLocalRuntime("worker", Boolean(opts.queueEnv?.KILN_QUEUE)))
    .catch(() => undefined);
  if (port !== 0) await assertPortFree(opts.host, port);
  const note = (line: string): void => ctx.out.info(line);
  const env: Record<string, string> = {};
  const token = opts.apiToken;
  if (token) env["KILN_API_TOKEN"] = token;
  Object.assign(env, opts.queueEnv);
  const source = await resolveModelSource(ctx, opts);
  const cache = await planOutputCache(opts.cache, source, ctx.cwd);
  if (cache) note(`Output cache: ${cache.dir} (version ${cache.version.slice(0, 19)}...)`);
  // In a fleet the version id of an image is its digest (a project without one: its content hash).
  if (env.KILN_QUEUE && source.kind === "docker") env.KILN_MODEL_VERSION ??= source.image.id;
  // ... and with --cache, the version the cache keys on: every replica of the project agrees on it.
  if (env.KILN_QUEUE && cache) env.KILN_MODEL_VERSION ??= cache.version;
  const interrupt = interruptSignal(ctx);
  try {
    if (source.kind === "local") {
      lap("manifest");
      const { startLocalModel } = await (localModule ?? import("./local-model.js"));
      const model = await startLocalModel(source.project, {
        onStep: (step) => lap(step === "compiled" ? "compile" : step === "worker" ? "worker" : "listen"),
        python: opts.python,
        env,
        setupTimeoutMs: SERVE_SETUP_TIMEOUT_MS,
        host: opts.host,
        port,
        uploadUrl: opts.uploadUrl,
        logLevel: "info",
        apiToken: token,
        cache,
      });
      try {
        // The server runs in this process: its own ready event ends the wait, with no HTTP request.
        await announceWhenReady(ctx, model.url, interrupt.signal, opts, async () => {
          const status = await Promise.race([model.ready, untilAborted(interrupt.signal)]);
          if (status === "SETUP_FAILED" || status === "DEFUNCT")
            throw notReadyError(status, model.setupLogs());
          lap("ready");
          timings.total = Math.round(performance.now());
          const cpu = process.cpuUsage();
          timings.cpu = Math.round((cpu.user + cpu.system) / 1000);
          ctx.out.debug(`timings (ms): ${JSON.stringify(timings)}`);
          return status;
        });
        if (!interrupt.signal.aborted) await hooks.onReady?.(model.url);
        // Ctrl-C / SIGTERM, or POST /shutdown stopping the server itself: either way a clean exit 0.
        const how = await Promise.race([
          untilAborted(interrupt.signal).then(() => "interrupted" as const),
          model.closed.then(() => "shutdown" as const),
        ]);
        if (how === "shutdown") note("The model was shut down (POST /shutdown).");
      } finally {
        await model.close();
      }
      return;
    }
    const mounted = cache ? containerCache(cache) : undefined;
    const readiness = readinessOf(source.image);
    const container = await startContainer(source, {
      role: "serve",
      env: { ...env, ...mounted?.env },
      ...(mounted ? { binds: [mounted.bind] } : {}),
      hostPort: port,
      host: opts.host,
      serverArgs: opts.uploadUrl ? ["--upload-url", opts.uploadUrl] : [],
      note,
      onLog: (stream, text) => {
        readiness.onOutput(text);
        (stream === "stderr" ? ctx.out.stderr : ctx.out.stdout).write(text);
      },
    });
    try {
      try {
        await announceWhenReady(ctx, container.url, interrupt.signal, opts, async () => {
          const h = await waitForReady(container.url, {
            timeoutMs: SERVE_SETUP_TIMEOUT_MS,
            signal: interrupt.signal,
            exited: container.exited,
            tail: container.tail,
            activity: readiness.activity,
            intervalMs: readiness.intervalMs,
          });
          return h.status;
        });
      } catch (err) {
        // A POST /shutdown right after start can stop the container before the CLI saw it READY.
        if ((await settledStatus(container.exited)) !== 0) throw err;
      }
      if (!interrupt.signal.aborted) await hooks.onReady?.(container.url);
      const status = await Promise.race([
        container.exited,
        untilAborted(interrupt.signal).then(() => undefined),
      ]);
      if (status === 0) {
        // The server stopped itself cleanly (POST /shutdown): the container is removed below, exit 0.
        note("The model was shut down (POST /shutdown).");
      } else if (status !== undefined) {
        throw new RuntimeStartError(`the model's container stopped (exit status ${status})`, {
          details: container.tail().slice(-30),
        });
      } else {
        note("Stopping the model...");
      }
    } finally {
      // A graceful stop lets in-flight predictions finish (bounded), as SIGTERM does in production.
      // Queue mode drains first (finish or hand back running predictions): give it that time.
      const grace = env.KILN_QUEUE ? Number(env.KILN_DRAIN_TIMEOUT ?? 30) + 5 : 5;
      await container.remove(interrupt.signal.aborted ? grace : 0);
    }
  } finally {
    interrupt.dispose();
  }
}

/**
 * Waits with `waitReady` (which throws why the model will not be ready) and says so. A setup failure
 * keeps the server up, answering SETUP_FAILED as Cog's does, unless --exit-on-setup-failure.
 */
async function announceWhenReady(
  ctx: RunContext,
  url: string,
  signal: AbortSignal,
  opts: Pick<ServeOptions, "exitOnSetupFailure">,
  waitReady: () => Promise<unknown>,
): Promise<void> {
  ctx.out.info(`Starting the model at ${url} ...`);
  try {
    await waitReady();
    if (signal.aborted) return; // Ctrl-C while starting: just stop
  } catch (err) {
    if (signal.aborted) return; // Ctrl-C while starting: just stop
    // Cog's server stays up after a failed setup, answering SETUP_FAILED; orchestrators expect that.
    const status = await health(url, signal).then(
      (h) => h.status,
      () => undefined,
    );
    if (status !== "SETUP_FAILED" || opts.exitOnSetupFailure) throw err;
    const details = err instanceof RuntimeStartError ? err.details : [];
    ctx.out.warn(`The model's setup() failed:${details.length > 0 ? `\n${details.join("\n")}` : ""}`);
    ctx.out.warn(
      `Still serving ${url}: /health-check reports SETUP_FAILED and predictions get 503, as Cog does. ` +
        "Press Ctrl-C to stop (--exit-on-setup-failure exits instead).",
    );
    return;
  }
  ctx.out.info(`Model ready: ${url} (container API; hosted API at ${url}/v1). Press Ctrl-C to stop.`);
}

/** The exit status if the container has already exited, else undefined. */
async function settledStatus(exited: Promise<number>): Promise<number | undefined> {
  return Promise.race([exited, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new UsageError(
              `port ${port} on ${host} is already in use`,
              "Choose another with -p PORT (or -p 0 for any free port).",
            )
          : err,
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
