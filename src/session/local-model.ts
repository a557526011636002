/**
 * --no-docker: the model's server and worker run directly on this machine (node, or python3 from
 * --python), through the same runtime code the image runs. TypeScript/JavaScript predictors are
 * compiled first (imports of "kiln" resolve to the SDK).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findRuntimeBundle } from "../build/bundle.js";
import { compileTsPredictor } from "../build/ts-predictor.js";
import { RuntimeStartError, UsageError } from "../errors.js";
import { requireEntryPoint } from "../manifest/positions.js";
import type { PredictorRef, ResolvedManifest } from "../manifest/types.js";
import type { HealthStatus } from "../runtime/health.js";
import type * as LocalServer from "../runtime/local-server.js";
import type * as LocalWorker from "../runtime/local-worker.js";
import type { ServerOptions, WorkerTarget } from "../runtime/server.js";

/** The runtime's in-process entries: the worker's start, then the server (src/runtime/local-*.ts). */
type LocalRuntime = { worker: typeof LocalWorker; server: typeof LocalServer };
type Part = keyof LocalRuntime;

/** dist/local-runtime/ (scripts/bundle-runtime.mjs): the same modules as two entry files and their chunks. */
const RUNTIME_BUNDLE = new URL("../local-runtime/", import.meta.url);

const loaded = new Map<string, Promise<unknown>>();

/**
 * One part of the runtime, loaded once: from the bundle where the build made it (a start then reads
 * a few files instead of ~60), else as its modules. Queue mode always takes the modules, which the
 * fleet code imports too: one copy of each class between them.
 */
export function loadLocalRuntime<P extends Part>(part: P, queue: boolean): Promise<LocalRuntime[P]> {
  const bundled = new URL(`${part}.mjs`, RUNTIME_BUNDLE);
  const from = !queue && existsSync(fileURLToPath(bundled)) ? "bundle" : "modules";
  const key = `${from} ${part}`;
  let loading = loaded.get(key);
  if (!loading) {
    if (from === "bundle") loading = import(bundled.href);
    else
      loading =
        part === "worker" ? import("../runtime/local-worker.js") : import("../runtime/local-server.js");
    loaded.set(key, loading);
  }
  return loading as Promise<LocalRuntime[P]>;
}

export interface LocalModelOptions {
  python: string;
  env: Record<string, string>;
  setupTimeoutMs: number;
  host?: string;
  port?: number;
  uploadUrl?: string | undefined;
  /** Bearer token required on /v1 (serve --api-token). */
  apiToken?: string | undefined;
  /** serve shows the server's request log (info); predict only its warnings. */
  logLevel?: "info" | "warn";
  /** serve --cache: the output cache's directory and the version id that keys it. */
  cache?: { dir: string; version: string } | undefined;
  /** Called as start-up passes each step (serve --debug prints the timings). */
  onStep?: (step: LocalStartStep) => void;
}

/** The steps of a start: predictor compiled (or found cached), worker started, server listening. */
export type LocalStartStep = "compiled" | "worker" | "listening";

export interface LocalModel {
  url: string;
  /** Resolves once setup finished (READY, SETUP_FAILED or DEFUNCT): callers need not poll for it. */
  ready: Promise<HealthStatus>;
  /** What setup() printed so far (the server's /health-check `setup.logs`). */
  setupLogs(): string;
  /** Resolves once the server stopped on its own (POST /shutdown) or after close(). */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** COG_SETUP_TIMEOUT (seconds) from the project's environment or ours wins over the caller's default. */
export async function startLocalModel(
  project: ResolvedManifest,
  opts: LocalModelOptions,
): Promise<LocalModel> {
  // A train-only project (no `predict:`) runs its trainer alone: /trainings answers, /predictions 404s.
  requireEntryPoint(project, "run");
  // The worker's part of the runtime loads while the predictor is compiled (or its cache checked).
  const queue = Boolean(opts.env.KILN_QUEUE);
  const loading = loadLocalRuntime("worker", queue);
  loading.catch(() => undefined); // awaited below
  const predictor = project.predict ? await target(project, project.predict) : undefined;
  const train = project.train ? await target(project, project.train) : undefined;
  opts.onStep?.("compiled");
  const rt = await loading;
  // The server's warnings matter while the model runs; once we stop it, "worker is gone" is expected.
  let closing = false;
  // COG_LOG_LEVEL (cog.yaml `environment:`, -e, or kiln's own environment) as in the image.
  const settingsEnv = { ...process.env, ...project.environment, ...opts.env };
  const logger = rt.createLogger({
    level: rt.parseLogLevel(settingsEnv.COG_LOG_LEVEL, opts.logLevel ?? "warn"),
    format: "console",
    write: (line) => {
      if (!closing) process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
    },
  });
  // COG_* settings from cog.yaml `environment:` (or -e) act here as they do in the image.
  // (and from kiln's own environment, as `docker run -e` would pass them)
  const cog = rt.cogRuntimeSettings(settingsEnv);
  const serverOptions: ServerOptions = {
    ...cog,
    root: project.root,
    predictor,
    train,
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? 0,
    uploadUrl: opts.uploadUrl,
    // concurrency.max 1 (the default) leaves room for @cog.concurrent(max=N), as in the image.
    maxConcurrency: cog.maxConcurrency ?? (project.concurrency.max > 1 ? project.concurrency.max : undefined),
    setupTimeoutMs: cog.setupTimeoutMs ?? opts.setupTimeoutMs,
    env: { ...project.environment, ...opts.env },
    python: opts.python,
    logger,
    ...(opts.apiToken ? { hosted: { apiToken: opts.apiToken } } : {}),
    ...(opts.cache ? { cache: opts.cache } : {}),
    ...workerLocations(),
  };
  // KILN_NODE_WORKER_MODE as in the image; a thread only where the working directory is the root.
  const workerMode = rt.nodeWorkerModeFor(nodeWorkerMode(rt, settingsEnv), {
    cwd: process.cwd(),
    root: project.root,
  });
  if (workerMode.notice && rt.mainTarget(serverOptions).language === "node") logger.info(workerMode.notice);
  serverOptions.nodeWorkerMode = workerMode.mode;
  // As in the image (runtime/main.ts): the worker boots while the server's modules load.
  const worker = new rt.WorkerSupervisor(rt.workerCommand(serverOptions), logger);
  worker.start({ hold: true });
  opts.onStep?.("worker");
  const serverPart = loadLocalRuntime("server", queue);
  // Queue mode (kiln serve --no-docker --queue): the same replica (and fleet cache store) the image runs.
  let fleet = null;
  let server;
  try {
    fleet = opts.env.KILN_QUEUE ? await import("../fleet/replica-env.js") : null;
    const options = fleet
      ? await fleet.withFleetCache(serverOptions, opts.env).catch((err: unknown) => {
          throw new RuntimeStartError(`the fleet's output cache could not start: ${(err as Error).message}`, {
            cause: err,
          });
        })
      : serverOptions;
    const { startServer } = await serverPart;
    server = await startServer({ ...options, worker });
  } catch (err) {
    worker.kill("the server could not start");
    // The port was free when serve checked it, and taken by the time the server listened.
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(
        `port ${serverOptions.port} on ${serverOptions.host} is already in use`,
        "Choose another with -p PORT (or -p 0 for any free port).",
      );
    throw err;
  }
  opts.onStep?.("listening");
  if (fleet) {
    await fleet.startReplicaFromEnv(server, opts.env).catch(async (err: unknown) => {
      await server.close();
      throw new RuntimeStartError(`queue mode could not start: ${(err as Error).message}`, { cause: err });
    });
  }
  return {
    url: server.url,
    ready: server.ready,
    setupLogs: () => server.health.setup.logs,
    closed: server.closed,
    close: () => {
      closing = true;
      return server.close();
    },
  };
}

function nodeWorkerMode(
  rt: LocalRuntime["worker"],
  env: NodeJS.ProcessEnv,
): ReturnType<LocalRuntime["worker"]["nodeWorkerModeFromEnv"]> {
  try {
    return rt.nodeWorkerModeFromEnv(env);
  } catch (err) {
    if (err instanceof rt.ConfigError)
      throw new UsageError(err.message, "Set it to thread or process, or leave it unset (thread).");
    throw err;
  }
}

async function target(project: ResolvedManifest, ref: PredictorRef): Promise<WorkerTarget> {
  if (ref.language === "python") return { language: "python", file: ref.file, name: ref.name };
  const { outFile } = await compileTsPredictor(project.root, ref);
  return { language: "node", file: outFile, name: ref.name };
}

/**
 * The workers (and playground page) images run (dist/runtime-bundle), when present; else the runtime's
 * own lookup (src/). Given explicitly: the bundled runtime's own lookup is relative to a file elsewhere.
 */
function workerLocations(): { nodeWorkerEntry?: string; pythonWorkerDir?: string; playgroundDir?: string } {
  let bundle: string;
  try {
    bundle = findRuntimeBundle();
  } catch {
    return {};
  }
  const python = join(bundle, "python");
  const playground = join(bundle, "playground");
  return {
    nodeWorkerEntry: join(bundle, "node-worker.mjs"),
    ...(existsSync(python) ? { pythonWorkerDir: python } : {}),
    ...(existsSync(join(playground, "index.html")) ? { playgroundDir: playground } : {}),
  };
}
