/**
 * The worker's command line: which program runs the predictor (node with kiln's worker, or python3 with
 * kiln's `cog` package), found beside this file in the bundle or in src/dist, with the server's own
 * credentials removed from its environment. Kept apart from server.ts so main.ts can start the worker
 * before the rest of the server has loaded.
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
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

/** The server's own credentials: the model's code never sees them. */
const SERVER_ONLY_ENV = ["KILN_API_TOKEN", "KILN_WEBHOOK_SECRET", "WEBHOOK_AUTH_TOKEN"] as const;

export function workerCommand(options: ServerOptions): WorkerCommand {
  const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
  const target = (t: WorkerTarget): string => `${t.file}:${t.name}`;
  const extra = ["--predictor", target(options.predictor), "--root", options.root];
  if (options.train) extra.push("--train", target(options.train));
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of SERVER_ONLY_ENV) delete env[name];
  if (options.predictor.language === "node") {
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
    return { command: process.execPath, args: [...flags, entry, ...extra], cwd: options.root, env };
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
