/**
 * --no-docker: the model's server and worker run directly on this machine (node, or python3 from
 * --python), through the same runtime code the image runs. TypeScript/JavaScript predictors are
 * compiled first (imports of "kiln" resolve to the SDK).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { findRuntimeBundle } from "../build/bundle.js";
import { compileTsPredictor } from "../build/ts-predictor.js";
import { RuntimeStartError } from "../errors.js";
import { requirePredictor } from "../manifest/positions.js";
import type { PredictorRef, ResolvedManifest } from "../manifest/types.js";
import { createLogger } from "../runtime/logger.js";
import { startServer, type WorkerTarget } from "../runtime/server.js";

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
}

export interface LocalModel {
  url: string;
  /** Resolves once the server stopped on its own (POST /shutdown) or after close(). */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** COG_SETUP_TIMEOUT (seconds) from the project's environment or ours wins over the caller's default. */
function setupTimeoutMs(env: Record<string, string | undefined>, fallback: number): number {
  const raw = env["COG_SETUP_TIMEOUT"];
  const n = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : fallback;
}

export async function startLocalModel(
  project: ResolvedManifest,
  opts: LocalModelOptions,
): Promise<LocalModel> {
  requirePredictor(project);
  const predictor = await target(project, project.predict as PredictorRef);
  const train = project.train ? await target(project, project.train) : undefined;
  // The server's warnings matter while the model runs; once we stop it, "worker is gone" is expected.
  let closing = false;
  const logger = createLogger({
    level: opts.logLevel ?? "warn",
    format: "console",
    write: (line) => {
      if (!closing) process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
    },
  });
  const server = await startServer({
    root: project.root,
    predictor,
    train,
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? 0,
    uploadUrl: opts.uploadUrl,
    maxConcurrency: project.concurrency.max,
    setupTimeoutMs: setupTimeoutMs(
      { ...process.env, ...project.environment, ...opts.env },
      opts.setupTimeoutMs,
    ),
    env: { ...project.environment, ...opts.env },
    python: opts.python,
    logger,
    ...(opts.apiToken ? { hosted: { apiToken: opts.apiToken } } : {}),
    ...workerLocations(),
  });
  if (opts.env.KILN_QUEUE) {
    // Queue mode (kiln serve --no-docker --queue): the same replica the image runs.
    const { startReplicaFromEnv } = await import("../fleet/replica-env.js");
    await startReplicaFromEnv(server, opts.env).catch(async (err: unknown) => {
      await server.close();
      throw new RuntimeStartError(`queue mode could not start: ${(err as Error).message}`, { cause: err });
    });
  }
  return {
    url: server.url,
    closed: server.closed,
    close: () => {
      closing = true;
      return server.close();
    },
  };
}

async function target(project: ResolvedManifest, ref: PredictorRef): Promise<WorkerTarget> {
  if (ref.language === "python") return { language: "python", file: ref.file, name: ref.name };
  const { outFile } = await compileTsPredictor(project.root, ref);
  return { language: "node", file: outFile, name: ref.name };
}

/** The workers images run (dist/runtime-bundle), when present; else the runtime's own lookup (src/). */
function workerLocations(): { nodeWorkerEntry?: string; pythonWorkerDir?: string } {
  let bundle: string;
  try {
    bundle = findRuntimeBundle();
  } catch {
    return {};
  }
  const python = join(bundle, "python");
  return {
    nodeWorkerEntry: join(bundle, "node-worker.mjs"),
    ...(existsSync(python) ? { pythonWorkerDir: python } : {}),
  };
}
