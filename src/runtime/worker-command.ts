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
 * V8 heap flags the server was started with (`node --max-semi-space-size=1 /kiln/server.mjs`, as the
 * image's CMD does) apply to a node worker too: one knob sizes both processes.
 */
const HEAP_FLAG = /^--(max-semi-space-size|max-old-space-size)=\d+$/;

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
    const flags = process.execArgv.filter((a) => HEAP_FLAG.test(a));
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
