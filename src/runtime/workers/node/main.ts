/**
 * Node worker entry: loads a compiled TS/JS predictor and serves the server <-> worker protocol.
 *
 *   node main.js [--predictor <file.mjs>:<export>] --root <dir> [--train <file.mjs>:<export>] [--schema-only]
 *
 * At least one of --predictor and --train: a train-only model (no `predict:`) passes --train alone.
 *
 * Sends `loaded` (schema) on fd 4, waits for `setup` on fd 3, answers `ready`/`setup_failed`, then runs
 * predictions. A module that fails to load is reported on stderr with exit code 1 (no `loaded` frame).
 *
 * The same file runs in a worker thread of the server (the default for node predictors, see
 * worker-thread.ts): the arguments come as the thread's argv and the frames go through parentPort
 * (thread-channel.ts). A predictor a thread cannot host (thread-support.ts) is handed back to the
 * server, which runs this file as a process instead.
 */
import { parseArgs } from "node:util";
import { isMainThread } from "node:worker_threads";
import { PROTOCOL_VERSION, type LoadedMessage, type ServerMessage } from "../../protocol.js";
import type { PredictorRuntime } from "../../../sdk/contract.js";
import { captureOutput } from "./capture.js";
import { openChannel } from "./channel.js";
import { describeError, loadPredictor } from "./load.js";
import { notifyServer, openThreadChannel } from "./thread-channel.js";
import { routeSelfSignals } from "./thread-signals.js";
import { idleCollector } from "./idle-gc.js";
import { routeThreadStdio, stopChildren } from "./thread-stdio.js";
import { threadUnsupportedReason } from "./thread-support.js";
import { Worker } from "./worker.js";

function loadedMessage(predictor: PredictorRuntime | null, trainer: PredictorRuntime | null): LoadedMessage {
  // A train-only model describes no prediction: empty Input/Output, and `trainOnly` says so.
  const schema = predictor
    ? predictor.schema()
    : {
        input: { title: "Input", type: "object", properties: {} },
        output: { title: "Output" },
        components: {},
      };
  return {
    type: "loaded",
    protocol: PROTOCOL_VERSION,
    schema: {
      ...schema,
      ...(predictor ? {} : { trainOnly: true }),
      ...(trainer ? { train: trainer.schema() } : {}),
    },
    async: true,
    hasHealthcheck: (predictor ?? trainer)?.hasHealthcheck ?? false,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      predictor: { type: "string" },
      train: { type: "string" },
      root: { type: "string" },
      "schema-only": { type: "boolean", default: false },
    },
    strict: true,
  });
  const root = values.root ?? process.cwd();
  if (!values.predictor && !values.train)
    throw new Error("--predictor <file>:<export> (or --train <file>:<export>) is required");
  if (!isMainThread) {
    routeThreadStdio((event, pid) => notifyServer(event === "spawned" ? { spawned: pid } : { reaped: pid }));
    routeSelfSignals((killed) => notifyServer({ killed }));
  }
  // Stack traces of bundled predictors point at predict.ts lines, not the bundle.
  process.setSourceMapsEnabled(true);
  let predictor: PredictorRuntime | null = null;
  let trainer: PredictorRuntime | null = null;
  // With --schema-only stdout carries the JSON: what the module prints while loading goes to stderr.
  const stdoutWrite = process.stdout.write;
  if (values["schema-only"])
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof stdoutWrite;
  try {
    if (values.predictor) predictor = await loadPredictor(root, values.predictor);
    if (values.train) trainer = await loadPredictor(root, values.train);
  } catch (err) {
    const unsupported = isMainThread ? null : threadUnsupportedReason(err);
    if (unsupported !== null) return notifyServer({ unsupported });
    process.stderr.write(`${describeError(err, root)}\n`);
    process.exitCode = 1;
    return;
  } finally {
    process.stdout.write = stdoutWrite;
  }
  const loaded = loadedMessage(predictor, trainer);
  if (values["schema-only"]) {
    process.stdout.write(`${JSON.stringify(loaded)}\n`);
    return;
  }
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    // A thread's subprocesses are reaped before it ends (a process's die with its group, thread-stdio.ts).
    const children = isMainThread ? Promise.resolve() : stopChildren();
    void Promise.all([channel.close(), children]).finally(() => process.exit(code));
  };
  const channelOptions = { onMessage: (m: ServerMessage) => worker.handle(m), onClose: () => exit(0) };
  const channel = isMainThread ? openChannel(channelOptions) : openThreadChannel(channelOptions);
  const worker = new Worker({
    root,
    predictor,
    trainer,
    send: (m) => channel.send(m),
    exit,
    activity: idleCollector(),
    // A native addon that setup() loads and a thread cannot: the server runs setup again in a process.
    ...(isMainThread
      ? {}
      : {
          threadUnsupported: threadUnsupportedReason,
          handOver: (unsupported: string) => {
            notifyServer({ unsupported });
            exit(0);
          },
        }),
  });
  captureOutput((m) => channel.send(m));
  // User code that rejects a promise nobody awaits (or throws from a timer) must not kill the worker and
  // every prediction in it: the one prediction it came from fails (Node runs these handlers in the
  // async context of the failing code, so the log scope names it); anything else is logged.
  process.on("unhandledRejection", (reason) => worker.strayError(reason, "unhandled promise rejection"));
  process.on("uncaughtException", (error) => worker.strayError(error, "uncaught exception"));
  // Ctrl-C reaches the whole process group: the server decides how to stop, and when it is gone the
  // closed fd 3 ends this process. (A thread gets no signals.)
  if (isMainThread) process.on("SIGINT", () => undefined);
  channel.send(loaded);
}

main().catch((err: unknown) => {
  process.stderr.write(`kiln worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
