/**
 * The worker's command line: which program runs the predictor (node with kiln's worker, or python3 with
 * kiln's `cog` package), found beside this file in the bundle or in src/dist, with the server's own
 * credentials removed from its environment. Kept apart from server.ts so main.ts can start the worker
 * before the rest of the server has loaded.
 */
import { existsSync, realpathSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { ResourceLimits } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { ServerOptions, WorkerTarget } from "./server.js";
import type { WorkerCommand } from "./worker-supervisor.js";

function firstExisting(candidates: (string | undefined)[]): string | undefined {
  return candidates.find((c) => c !== undefined && existsSync(c));
}

/**
 * V8 heap flags for a node worker. A 1 MB young generation keeps a busy worker's heap from growing by
 * tens of MB (bench/memory.mjs measures it, with no cost in CPU per prediction there). Heap flags the
 * server was started with (`node --max-semi-space-size=N /kiln/server.mjs`) win: one knob for both.
 */
const HEAP_FLAG = /^--(max-semi-space-size=\d+|max-old-space-size=\d+|optimize-for-size)$/;
const WORKER_HEAP_FLAGS = ["--max-semi-space-size=1"];

function workerHeapFlags(execArgv: readonly string[]): string[] {
  const given = execArgv.filter((a) => HEAP_FLAG.test(a));
  const name = (a: string): string => a.split("=")[0]!;
  const kinds = new Set(given.map(name));
  return [...WORKER_HEAP_FLAGS.filter((a) => !kinds.has(name(a))), ...given];
}

/**
 * The same heap settings for a worker thread, as its resource limits (V8 flags are per process, limits
 * per isolate): a young generation is three semi-spaces, and an old space limit is kept as it is.
 * Explicit limits (tests, ServerOptions) win.
 */
export function threadResourceLimits(
  execArgv: readonly string[],
  explicit: ResourceLimits | undefined,
): ResourceLimits {
  const limits: ResourceLimits = {};
  for (const flag of workerHeapFlags(execArgv)) {
    const [name, value] = flag.split("=");
    const mb = Number(value);
    if (name === "--max-semi-space-size") limits.maxYoungGenerationSizeMb = mb * 3;
    if (name === "--max-old-space-size") limits.maxOldGenerationSizeMb = mb;
  }
  return { ...limits, ...explicit };
}

/** KILN_NODE_WORKER_MODE's values; thread is the default. */
export type NodeWorkerMode = "thread" | "process";

/**
 * The mode a server entry point (the image's main.ts, --no-docker) uses: a thread shares the server's
 * working directory (a thread cannot chdir), so where that is not the project root the predictor
 * runs in a process (whose cwd is the root), keeping its relative paths as they were. `notice` says
 * why, for the log.
 */
export function nodeWorkerModeFor(
  requested: NodeWorkerMode | undefined,
  dirs: { cwd: string; root: string },
): { mode: NodeWorkerMode; notice?: string } {
  if (requested === "process") return { mode: "process" };
  const real = (p: string): string => {
    try {
      return realpathSync(resolve(p));
    } catch {
      return resolve(p);
    }
  };
  if (real(dirs.cwd) === real(dirs.root)) return { mode: "thread" };
  return {
    mode: "process",
    notice: `the predictor runs in a process of its own: a worker thread would share the server's working directory (${dirs.cwd}), not the project root (${dirs.root})`,
  };
}

/** The server's own credentials: the model's code never sees them. */
const SERVER_ONLY_ENV = ["KILN_API_TOKEN", "KILN_WEBHOOK_SECRET", "WEBHOOK_AUTH_TOKEN"] as const;

/** The predictor, or the trainer of a train-only model: what the worker runs first. */
export function mainTarget(options: Pick<ServerOptions, "predictor" | "train">): WorkerTarget {
  const target = options.predictor ?? options.train;
  if (!target) throw new Error("the server needs a predictor or a trainer (KILN_PREDICTOR or KILN_TRAIN)");
  return target;
}

export function workerCommand(options: ServerOptions): WorkerCommand {
  const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
  const target = (t: WorkerTarget): string => `${t.file}:${t.name}`;
  const main = mainTarget(options);
  const extra = options.predictor ? ["--predictor", target(options.predictor)] : [];
  extra.push("--root", options.root);
  if (options.train) extra.push("--train", target(options.train));
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of SERVER_ONLY_ENV) delete env[name];
  if (main.language === "node") {
    const entry = firstExisting([
      options.nodeWorkerEntry,
      process.env.KILN_NODE_WORKER,
      here("./node-worker.mjs"), // in the bundle
      here("./workers/node/main.js"), // compiled dist/
    ]);
    if (!entry)
      throw new Error(
        "cannot find the kiln node worker (build it with `npm run build`, or set KILN_NODE_WORKER)",
      );
    const flags = workerHeapFlags(process.execArgv);
    const thread =
      options.nodeWorkerMode === "process"
        ? undefined
        : {
            entry,
            argv: extra,
            env,
            resourceLimits: threadResourceLimits(process.execArgv, options.nodeWorkerResourceLimits),
          };
    return { command: process.execPath, args: [...flags, entry, ...extra], cwd: options.root, env, thread };
  }
  const dir = firstExisting([
    options.pythonWorkerDir,
    process.env.KILN_PYTHON_WORKER_DIR,
    here("./python/"), // in the bundle
    here("./workers/python/"), // in src/
  ]);
  if (!dir) throw new Error("cannot find the kiln python worker (kiln_worker.py)");
  env.PYTHONPATH = env.PYTHONPATH ? `${dir}${delimiter}${env.PYTHONPATH}` : dir;
  env.PYTHONUNBUFFERED = "1";
  return {
    command: options.python ?? "python3",
    args: ["-u", join(dir, "kiln_worker.py"), ...extra],
    cwd: options.root,
    env,
  };
}
