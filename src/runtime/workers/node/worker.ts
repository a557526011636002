/**
 * The node worker's state machine: setup once, then run predictions concurrently as the server sends
 * them, each in its own log scope with its own AbortController.
 */
import type { PredictorRuntime, RuntimeResult } from "../../../sdk/contract.js";
import type { PredictMessage, ServerMessage, WorkerMessage } from "../../protocol.js";
import { logScope } from "./capture.js";
import { describeError, errorMessage } from "./load.js";
import { findNonJson } from "./json-check.js";

interface Running {
  controller: AbortController;
  canceled: boolean;
  /** A terminal frame was sent (e.g. by strayError): later results of this run are dropped. */
  settled: boolean;
  done: Promise<void>;
}

export interface WorkerOptions {
  root: string;
  /** null for a train-only model (no `predict:`); then `trainer` is set. */
  predictor: PredictorRuntime | null;
  trainer: PredictorRuntime | null;
  send: (message: WorkerMessage) => void;
  /** Called once the worker should exit (after shutdown drained, or when the server went away). */
  exit: (code: number) => void;
  /**
   * In a worker thread: why a setup error means the thread cannot host this predictor (null: it is an
   * ordinary setup failure), and how to hand it over to a process instead (see thread-support.ts).
   */
  threadUnsupported?: ((err: unknown) => string | null) | undefined;
  handOver?: ((reason: string) => void) | undefined;
  /** Told when a prediction starts and when none is running any more (idle-gc.ts). */
  activity?: { busy(): void; idle(): void } | undefined;
}

/** An output JSON cannot carry: the message names the value's path; no stack trace is worth showing. */
class OutputError extends Error {
  constructor(problem: string) {
    super(`predict() returned a value JSON cannot carry: ${problem}`);
  }
}

export class Worker {
  private readonly running = new Map<string, Running>();
  private setupStarted = false;
  private shuttingDown = false;

  constructor(private readonly opts: WorkerOptions) {}

  handle(message: ServerMessage): void {
    switch (message.type) {
      case "setup":
        return void this.setup(message.weights);
      case "predict":
        return this.predict(message);
      case "cancel":
        return this.cancel(message.id);
      case "healthcheck":
        return void this.healthcheck(message.seq);
      case "shutdown":
        return void this.shutdown();
    }
  }

  private log(id: string | null, source: "stdout" | "stderr", data: string): void {
    this.opts.send({ type: "log", id, source, data });
  }

  private async setup(weights: string | null): Promise<void> {
    if (this.setupStarted) return;
    this.setupStarted = true;
    const runtimes: PredictorRuntime[] = [];
    if (this.opts.predictor) runtimes.push(this.opts.predictor);
    if (this.opts.trainer && this.opts.trainer !== this.opts.predictor) runtimes.push(this.opts.trainer);
    try {
      await logScope.run({ id: null }, async () => {
        for (const runtime of runtimes) {
          await runtime.setup({ weights, log: (text) => this.log(null, "stdout", `${text}\n`) });
        }
      });
      this.opts.send({ type: "ready" });
    } catch (err) {
      const unsupported = this.opts.threadUnsupported?.(err) ?? null;
      if (unsupported !== null && this.opts.handOver) return this.opts.handOver(unsupported);
      if (err instanceof Error && err.stack) this.log(null, "stderr", `${err.stack}\n`);
      this.opts.send({ type: "setup_failed", error: describeError(err, this.opts.root) });
    }
  }

  private predict(message: PredictMessage): void {
    if (this.running.has(message.id)) return; // a repeated frame: the first one is running
    if (this.shuttingDown) {
      this.opts.send({ type: "failed", id: message.id, error: "the model is shutting down" });
      return;
    }
    const runtime = message.kind === "train" ? this.opts.trainer : this.opts.predictor;
    const entry: Running = {
      controller: new AbortController(),
      canceled: false,
      settled: false,
      done: Promise.resolve(),
    };
    this.running.set(message.id, entry);
    this.opts.activity?.busy();
    entry.done = logScope
      .run({ id: message.id }, () => this.runPrediction(message, runtime, entry))
      .finally(() => {
        this.running.delete(message.id);
        if (this.running.size === 0) this.opts.activity?.idle();
      });
  }

  private async runPrediction(
    message: PredictMessage,
    runtime: PredictorRuntime | null,
    entry: Running,
  ): Promise<void> {
    const { id } = message;
    const send = (m: WorkerMessage): void => {
      if (entry.settled) return;
      if (m.type === "done" || m.type === "failed" || m.type === "canceled") entry.settled = true;
      this.opts.send(m);
    };
    try {
      if (!runtime)
        throw new Error(
          message.kind === "train" ? "this model has no trainer" : "this model has no predict: entry",
        );
      const result: RuntimeResult = await runtime.run(message.input, {
        id,
        signal: entry.controller.signal,
        context: message.context ?? {},
        log: (text) => this.log(id, "stdout", `${text}\n`),
        recordMetric: (name, value, mode) => send({ type: "metric", id, name, value, mode }),
      });
      if (result.kind === "value") {
        const problem = findNonJson(result.value);
        if (problem) throw new OutputError(problem);
        const output = runtime.encodeOutput(result.value);
        send(entry.canceled ? { type: "canceled", id } : { type: "done", id, output });
        return;
      }
      const items = result.items;
      let chunks = 0;
      for (;;) {
        if (entry.canceled) break;
        const step = await items.next();
        if (step.done || entry.canceled) break;
        const problem = findNonJson(step.value, `output[${chunks}]`);
        if (problem) {
          await Promise.resolve(items.return?.()).catch(() => undefined);
          throw new OutputError(problem);
        }
        chunks++;
        send({ type: "output", id, chunk: runtime.encodeOutput(step.value) });
      }
      if (entry.canceled) {
        // Let the generator run its finally blocks; its errors no longer matter.
        await Promise.resolve(items.return?.()).catch(() => undefined);
        send({ type: "canceled", id });
      } else {
        send({ type: "done", id });
      }
    } catch (err) {
      if (entry.canceled) return send({ type: "canceled", id });
      if (err instanceof Error && err.stack && !(err instanceof OutputError))
        this.log(id, "stderr", `${err.stack}\n`);
      send({ type: "failed", id, error: errorMessage(err) });
    }
  }

  /**
   * An error no code awaited: fails the prediction whose async context raised it (its log scope), or is
   * logged when it belongs to none (setup, or a prediction already finished). The worker lives on.
   */
  strayError(error: unknown, what: string): void {
    const id = logScope.getStore()?.id ?? null;
    const entry = id === null ? undefined : this.running.get(id);
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (!entry || entry.settled || id === null) {
      const where = id === null ? "outside any prediction" : `after prediction ${id} finished`;
      this.log(null, "stderr", `kiln worker: ${what} ${where} (ignored): ${text}\n`);
      return;
    }
    entry.settled = true;
    this.log(id, "stderr", `${text}\n`);
    this.opts.send(
      entry.canceled
        ? { type: "canceled", id }
        : { type: "failed", id, error: `${what}: ${errorMessage(error)}` },
    );
    // Its promise may never settle now: do not let shutdown wait for it.
    this.running.delete(id);
    entry.controller.abort(new Error(`prediction failed: ${what}`));
  }

  private cancel(id: string): void {
    const entry = this.running.get(id);
    if (!entry || entry.canceled) return;
    entry.canceled = true;
    // Abort listeners run synchronously here: give them the prediction's log scope.
    logScope.run({ id }, () => entry.controller.abort(new Error("prediction canceled")));
  }

  private async healthcheck(seq: number): Promise<void> {
    try {
      const ok = (await (this.opts.predictor ?? this.opts.trainer)?.healthcheck()) ?? true;
      this.opts.send(
        ok
          ? { type: "healthcheck_result", seq, ok }
          : { type: "healthcheck_result", seq, ok, error: "user-defined healthcheck returned False" },
      );
    } catch (err) {
      this.opts.send({ type: "healthcheck_result", seq, ok: false, error: errorMessage(err) });
    }
  }

  /** Stops taking predictions, lets in-flight ones finish, then exits 0. */
  private async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    this.opts.exit(0);
  }
}
