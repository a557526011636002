/**
 * `kiln predict`: parse inputs, get the model's schema (image label, or the local server), check the
 * inputs before anything starts, start the model, wait for READY, run one prediction, write outputs,
 * and always tear the model down (also on Ctrl-C, which cancels the prediction first).
 */
import type { RunContext } from "../context.js";
import { InterruptedError, PredictionError, UsageError } from "../errors.js";
import { fetchOpenApi, predict, waitForReady, type PredictResult } from "../prediction/client.js";
import { resolveInputs, type RawInputs } from "../prediction/inputs.js";
import { OutputWriter } from "../prediction/outputs.js";
import { hasPredictor, schemaView } from "../schema/view.js";
import {
  interruptSignal,
  readinessOf,
  resolveModelSource,
  startContainer,
  type ModelSourceOptions,
} from "./model-source.js";

export interface PredictOptions extends ModelSourceOptions {
  /** -i / --json inputs, syntax-checked (prediction/inputs.ts parseInputArgs). */
  inputs: RawInputs;
  /** --json given: the whole prediction is printed as JSON. */
  json: boolean;
  /** -o PATH. */
  output?: string | undefined;
  env: Record<string, string>;
  setupTimeoutMs: number;
  /** Interpreter for --no-docker Python predictors. */
  python: string;
}

/** Phases of one `kiln predict` in ms (printed with --debug; bench/predict-image.mjs reads them). */
export interface PredictTimings {
  /** Process start to the command's first line: Node startup and module loading. */
  boot?: number;
  /** Inputs, engine, build or image inspection, input checks. */
  prepare?: number;
  /** Container create + start (or the in-process server). */
  start?: number;
  ready?: number;
  predict?: number;
  teardown?: number;
  /** Process start to the end of the command. */
  total?: number;
}

export async function runPredict(ctx: RunContext, opts: PredictOptions): Promise<void> {
  await runOnModel(ctx, opts, {
    kind: "predict",
    // A project without `predict:` already failed (exit 3); an image built from one fails here.
    checkSchema: (openapi) => {
      if (hasPredictor(openapi)) return;
      throw new UsageError(
        `${opts.image ?? "this model"} has no predictor: it only trains (no \`predict:\` in its cog.yaml)`,
        `Run \`kiln train${opts.image ? ` ${opts.image}` : ""} -i name=value\` instead.`,
      );
    },
    run: (url, input, openapi, signal, release) =>
      predictAndWrite(ctx, url, input, openapi, opts, signal, release),
  });
}

/** What differs between `kiln predict` and `kiln train`: the entry point and what is done on the model. */
export interface ModelRequest {
  kind: "predict" | "train";
  /** Checks the model's OpenAPI document before the inputs are (e.g. that the model has a trainer). */
  checkSchema?: ((openapi: unknown) => void) | undefined;
  /**
   * Runs the request on the ready model and writes its result. `release()` says the model is no longer
   * needed (its answer is in): its teardown then starts while the result is written.
   */
  run: (
    url: string,
    input: Record<string, unknown>,
    openapi: unknown,
    signal: AbortSignal,
    release: () => void,
  ) => Promise<void>;
}

/**
 * Starts the model (container or in-process), checks the inputs against its schema for `request.kind`,
 * waits for READY, runs the request and always tears the model down (also on Ctrl-C).
 */
export async function runOnModel(
  ctx: RunContext,
  opts: Omit<PredictOptions, "json" | "output">,
  request: ModelRequest,
): Promise<void> {
  const timings: PredictTimings = { boot: Math.round(performance.now()) };
  let mark = performance.now();
  const lap = (key: keyof PredictTimings): void => {
    const now = performance.now();
    timings[key] = Math.round(now - mark);
    mark = now;
  };
  const note = (line: string): void => ctx.out.info(line);
  const { inputs: raw, env, setupTimeoutMs } = opts;
  const source = await resolveModelSource(ctx, opts);
  const interrupt = interruptSignal(ctx);
  const inputsFor = (openapi: unknown): Promise<Record<string, unknown>> => {
    request.checkSchema?.(openapi);
    return resolveInputs(raw, schemaView(openapi, request.kind), { cwd: ctx.cwd });
  };
  try {
    await runWithModel();
  } catch (err) {
    // stdout's reader left (`| head -c 4`): the model was torn down above; nothing to report.
    if (!interrupt.brokenPipe()) throw err;
  } finally {
    interrupt.dispose();
    timings.total = Math.round(performance.now());
    ctx.out.debug(`timings (ms): ${JSON.stringify(timings)}`);
  }

  async function runWithModel(): Promise<void> {
    if (source.kind === "docker") {
      const input = await inputsFor(source.image.openapi);
      lap("prepare");
      const readiness = readinessOf(source.image);
      const container = await startContainer(source, {
        role: request.kind,
        env,
        note,
        onLog: (_stream, text) => {
          readiness.onOutput(text);
          if (ctx.debug) ctx.out.stderr.write(text);
        },
      });
      lap("start");
      try {
        await waitForReady(container.url, {
          timeoutMs: setupTimeoutMs,
          signal: interrupt.signal,
          exited: container.exited,
          tail: container.tail,
          activity: readiness.activity,
          intervalMs: readiness.intervalMs,
          announced: readiness.announced,
        });
        lap("ready");
        // The removal (about as long as the container's start) runs alongside writing the outputs;
        // remove() is idempotent, and the command still ends only once the container is gone.
        const release = (): void => void container.remove().catch(() => undefined);
        await request.run(container.url, input, source.image.openapi, interrupt.signal, release);
        lap("predict");
      } finally {
        await container.remove();
        lap("teardown");
      }
    } else {
      lap("prepare");
      const { startLocalModel } = await import("./local-model.js");
      const model = await startLocalModel(source.project, { python: opts.python, env, setupTimeoutMs });
      lap("start");
      try {
        // The schema comes from the worker; inputs are still checked before setup() matters.
        const openapi = await fetchOpenApi(model.url, {
          timeoutMs: setupTimeoutMs,
          signal: interrupt.signal,
        });
        const input = await inputsFor(openapi);
        await waitForReady(model.url, { timeoutMs: setupTimeoutMs, signal: interrupt.signal });
        lap("ready");
        await request.run(model.url, input, openapi, interrupt.signal, () => undefined);
        lap("predict");
      } finally {
        await model.close();
        lap("teardown");
      }
    }
  }
}

async function predictAndWrite(
  ctx: RunContext,
  url: string,
  input: Record<string, unknown>,
  openapi: unknown,
  opts: PredictOptions,
  signal: AbortSignal,
  release: () => void,
): Promise<void> {
  // As with Cog: inputs given as JSON (--json) get the whole prediction back as JSON on stdout.
  const json = opts.json;
  const writer = new OutputWriter(
    { stdout: ctx.out.stdout, note: (l) => ctx.out.info(l) },
    {
      cwd: ctx.cwd,
      outputPath: opts.output,
      json,
      outputSchema: schemaView(openapi).output,
      streamChunks: Boolean((ctx.out.stdout as { isTTY?: boolean }).isTTY),
      documentExtra: ctx.out.warnings ? { warnings: ctx.out.warnings } : undefined,
    },
  );
  const result = await requestWithLogs(ctx, url, {
    kind: "predict",
    input,
    signal,
    json,
    onOutput: (chunk, index) => writer.chunk(chunk, index),
  });
  // Outputs arrive as data URIs inside the answer: the model is not needed to write them.
  release();
  await writer.finish(result.prediction);
  throwUnlessSucceeded(result, "prediction");
}

/** Runs one prediction or training, its logs streamed to stderr (or printed once at the end). */
export async function requestWithLogs(
  ctx: RunContext,
  url: string,
  opts: {
    kind: "predict" | "train";
    input: Record<string, unknown>;
    signal: AbortSignal;
    /** --json: logs stream while running, but are not printed again at the end (they are in the JSON). */
    json: boolean;
    onOutput?: ((chunk: unknown, index: number) => Promise<void> | void) | undefined;
  },
): Promise<PredictResult> {
  let streamedLogs = false;
  const result: PredictResult = await predict(url, {
    kind: opts.kind,
    input: opts.input,
    signal: opts.signal,
    ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
    onLog: (text) => {
      streamedLogs = true;
      ctx.out.stderr.write(text);
    },
  });
  const p = result.prediction;
  if (!streamedLogs && p.logs && !opts.json)
    ctx.out.stderr.write(p.logs.endsWith("\n") ? p.logs : `${p.logs}\n`);
  return result;
}

/** Ctrl-C is `interrupted` (130); a failed or canceled run is a PredictionError (1). */
export function throwUnlessSucceeded(result: PredictResult, noun: "prediction" | "training"): void {
  const p = result.prediction;
  if (result.interrupted) throw new InterruptedError(`Interrupted: the ${noun} was canceled.`);
  if (p.status === "failed") {
    throw new PredictionError(
      `the ${noun} failed: ${typeof p.error === "string" ? p.error : JSON.stringify(p.error)}`,
    );
  }
  if (p.status === "canceled") throw new PredictionError(`the ${noun} was canceled`);
}
