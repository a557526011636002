/**
 * The prediction core: validates requests, holds the in-flight store and its slots, downloads file
 * inputs, dispatches to the worker, routes worker messages to predictions and finishes them. Both the
 * container API and the hosted /v1 facade drive predictions through this one class.
 */
import { EventEmitter } from "node:events";
import type { PredictorKind, WorkerMessage } from "../protocol.js";
import type { PredictorSchema } from "../../schema/types.js";
import { validateInput, type ValidationIssue } from "../../schema/validate.js";
import { fileFields, outputKind, secretFields } from "../../schema/fields.js";
import type { OutputCache } from "../cache/output-cache.js";
import type { CacheDirective } from "../cache/policy.js";
import { Prediction } from "./prediction.js";
import { newPredictionId } from "../ids.js";
import { RAW_ATTACHMENT_MIN_BYTES, RawJson, materialize } from "../raw-json.js";
import { detachInputs, encodePredictFrame } from "../protocol.js";
import { makeRedactor, redactInput, secretValues } from "../redact.js";
import {
  DEFAULT_FILE_LIMITS,
  encodeOutputFiles,
  makeTempDir,
  removeTempDir,
  resolveFileInputs,
  type FileLimits,
  type LocalFileResolver,
  type OutputFileStore,
} from "../files.js";
import type { WorkerExit, WorkerSupervisor } from "../worker-supervisor.js";
import type { Logger } from "../logger.js";

export interface CreateRequest {
  id?: string | undefined;
  kind: PredictorKind;
  input: unknown;
  context?: Record<string, string> | undefined;
  /** The request's Cache-Control, as the output cache reads it. */
  cache?: CacheDirective | undefined;
  /** The original creation time (a fleet replica running a queued prediction). */
  createdAt?: Date | undefined;
  /** Keeps output files somewhere of the caller's choosing (the /v1 files store, for trainings). */
  outputFiles?: OutputFileStore | undefined;
}

export type CreateResult = { ok: true; prediction: Prediction } | { ok: false; errors: ValidationIssue[] };

export class CapacityError extends Error {
  constructor(readonly capacity: number) {
    super(`the model is at capacity: all ${capacity} prediction slot(s) are in use`);
  }
}
export class DuplicateIdError extends Error {
  constructor(readonly id: string) {
    super(`a prediction with id ${id} is already running`);
  }
}

export interface RunnerOptions {
  worker: WorkerSupervisor;
  schema: () => PredictorSchema | null;
  capacity: number;
  logger: Logger;
  uploadUrl?: string | undefined;
  fileLimits?: FileLimits | undefined;
  /** COG_STREAM_HISTORY_CAPACITY: per-prediction events kept for SSE replay. */
  historyCapacity?: number | undefined;
  /** Completed predictions kept for lookups (the /v1 facade); the container API needs none. */
  retainCompleted?: number;
  /** Resolves file inputs that point at this server (the /v1 files store) without HTTP. */
  localFile?: LocalFileResolver | undefined;
  /**
   * How long a canceled prediction may keep running before the worker is killed and restarted (the
   * prediction then ends `canceled` and its slot frees). Default DEFAULT_CANCEL_GRACE_MS.
   */
  cancelGraceMs?: number | undefined;
  /** Called with worker output that belongs to no prediction (setup, or ambiguous with concurrency). */
  onStrayOutput?: (source: "stdout" | "stderr", data: string) => void;
  /** The output cache, when the model may be cached and the server has a store (opt-in). */
  cache?: OutputCache | undefined;
}

interface Running {
  prediction: Prediction;
  /** Serializes output-file encoding so chunks keep their order and `done` waits for them. */
  chain: Promise<void>;
  /** Steps queued on `chain` that have not run yet: none, and a plain message is handled at once. */
  queued: number;
  dispatched: boolean;
  /** Set when a successful output is to be stored in the output cache under this key. */
  cacheKey: string | null;
  /** Iterator chunks as the worker sent them (file outputs still local paths), for the cache. */
  rawChunks: unknown[];
}

const DEFAULT_CANCEL_GRACE_MS = 10_000;

/** What every request of one schema and kind needs from it, worked out once (not per prediction). */
interface SchemaFacts {
  files: string[];
  secrets: string[];
  iterator: boolean;
}
const factsBySchema = new WeakMap<PredictorSchema, Partial<Record<PredictorKind, SchemaFacts>>>();

function schemaFacts(schema: PredictorSchema, kind: PredictorKind): SchemaFacts {
  let byKind = factsBySchema.get(schema);
  if (!byKind) factsBySchema.set(schema, (byKind = {}));
  return (byKind[kind] ??= {
    files: fileFields(schema, kind).map((f) => f.name),
    secrets: secretFields(schema, kind).map((f) => f.name),
    iterator: outputKind(schema, kind) !== "single",
  });
}

// Stateless: every prediction without secrets shares it.
const NO_SECRETS = makeRedactor([]);

/**
 * Whether an output may hold a file reference (`{"$file": path}`) to encode: false for what surely
 * holds none, so the common output skips the asynchronous walk. A big output kept as bytes may, unless
 * it is one string. Iterative: a deeply nested output cannot exhaust the stack.
 */
export function mayHoldFiles(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (v instanceof RawJson) {
      if (v.parts[0]?.[0] !== 0x22) return true;
      continue;
    }
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === "object" && item !== null) stack.push(item);
      continue;
    }
    for (const key in v) {
      if (key === "$file") return true;
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) stack.push(item);
    }
  }
  return false;
}

/**
 * Validates a request against a schema into a not-yet-started prediction (secrets masked in its public
 * input and redacted from its logs). Pure apart from the warning; the fleet gateway calls it too.
 */
export function preparePrediction(
  schema: PredictorSchema,
  req: CreateRequest,
  logger: Logger,
  historyCapacity?: number,
): CreateResult {
  const kind = req.kind;
  const checked = validateInput(schema, req.input ?? {}, kind);
  if (!checked.ok) return { ok: false, errors: checked.errors };
  if (checked.dropped.length > 0) logger.warn("dropped unknown input keys", { keys: checked.dropped });
  const { secrets, iterator } = schemaFacts(schema, kind);
  const prediction = new Prediction({
    id: req.id ?? newPredictionId(),
    kind,
    input: checked.value,
    publicInput: redactInput(checked.value, secrets),
    context: req.context ?? {},
    iterator,
    redact: secrets.length === 0 ? NO_SECRETS : makeRedactor(secretValues(checked.value, secrets)),
    createdAt: req.createdAt,
    historyCapacity,
    cacheDirective: req.cache,
    outputFiles: req.outputFiles,
  });
  return { ok: true, prediction };
}

export class PredictionRunner extends EventEmitter<{ "slot-freed": []; completed: [Prediction] }> {
  private readonly running = new Map<string, Running>();
  private readonly recent = new Map<string, Prediction>();
  private capacityValue: number;

  constructor(private readonly options: RunnerOptions) {
    super();
    this.capacityValue = Math.max(1, options.capacity);
    options.worker.on("message", (m) => this.onMessage(m));
    options.worker.on("userOutput", (source, data) => this.onUserOutput(source, data));
    options.worker.on("exit", (e) => this.onWorkerExit(e));
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** Lowered to 1 when the worker reports a synchronous predictor. */
  set capacity(n: number) {
    this.capacityValue = Math.max(1, n);
  }

  get inFlight(): number {
    return this.running.size;
  }

  hasFreeSlot(): boolean {
    return this.running.size < this.capacityValue;
  }

  get(id: string): Prediction | undefined {
    return this.running.get(id)?.prediction ?? this.recent.get(id);
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Validates a request into a not-yet-started prediction. Needs the worker's schema (i.e. loaded). */
  create(req: CreateRequest): CreateResult {
    const schema = this.options.schema();
    if (!schema) throw new Error("the predictor schema is not loaded yet");
    return preparePrediction(schema, req, this.options.logger, this.options.historyCapacity);
  }

  /** Takes a slot and runs the prediction in the background; throws CapacityError / DuplicateIdError. */
  start(prediction: Prediction): void {
    if (this.running.has(prediction.id)) throw new DuplicateIdError(prediction.id);
    if (!this.hasFreeSlot()) throw new CapacityError(this.capacityValue);
    const entry: Running = {
      prediction,
      chain: Promise.resolve(),
      queued: 0,
      dispatched: false,
      cacheKey: null,
      rawChunks: [],
    };
    this.running.set(prediction.id, entry);
    // Free the slot synchronously on completion, before any response is written, so a client that
    // sends its next request right after the answer never sees a stale 409.
    prediction.subscribe((e) => {
      if (e.type === "completed") this.release(prediction);
    });
    void this.run(entry);
  }

  /** Requests cancellation; false when no such prediction is in flight. Idempotent. */
  cancel(id: string): boolean {
    const entry = this.running.get(id);
    if (!entry) return false;
    const p = entry.prediction;
    if (!p.cancelRequested) {
      p.cancelController.abort();
      if (entry.dispatched) {
        this.options.worker.send({ type: "cancel", id });
        this.enforceCancel(entry);
      }
    }
    return true;
  }

  /** A model that ignores the cancel gets `cancelGraceMs`, then its worker is killed and restarted. */
  private enforceCancel(entry: Running): void {
    const p = entry.prediction;
    const grace = this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    const timer = setTimeout(() => {
      if (p.terminal || this.running.get(p.id) !== entry) return;
      this.options.logger.warn("the model ignored a cancel: killing and restarting its worker", {
        id: p.id,
        grace_ms: grace,
      });
      this.options.worker.kill(`prediction ${p.id} ignored its cancel for ${grace / 1000} s`, {
        restart: true,
      });
    }, grace);
    timer.unref();
    void p.finished.then(() => clearTimeout(timer));
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (then the rest is canceled). */
  async drain(timeoutMs: number): Promise<void> {
    const all = () => Promise.all([...this.running.values()].map((e) => e.prediction.finished));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const result = await Promise.race([all(), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      for (const id of this.running.keys()) this.cancel(id);
      await Promise.race([all(), new Promise((r) => setTimeout(r, 2000))]);
    }
  }

  private run(entry: Running): void {
    const p = entry.prediction;
    const schema = this.options.schema();
    const files = schema ? schemaFacts(schema, p.kind).files : [];
    const cached = this.options.cache !== undefined && p.kind === "predict" && schema !== null;
    if (cached || files.some((f) => p.input[f] !== null && p.input[f] !== undefined)) {
      void this.prepareAndDispatch(entry, schema, files);
      return;
    }
    // Nothing to download nor look up: dispatched now, without a promise in between.
    try {
      this.dispatch(entry, p.input);
    } catch (err) {
      p.finish("failed", { error: (err as Error).message });
    }
  }

  private dispatch(entry: Running, input: Record<string, unknown>): void {
    const p = entry.prediction;
    if (p.cancelRequested) {
      p.finish("canceled");
    } else if (!this.sendPredict(p, input)) {
      p.finish("failed", { error: this.workerGoneMessage() });
    } else {
      entry.dispatched = true;
      p.markProcessing();
    }
  }

  /** File inputs downloaded and the output cache asked first, then dispatched. */
  private async prepareAndDispatch(
    entry: Running,
    schema: PredictorSchema | null,
    files: string[],
  ): Promise<void> {
    const p = entry.prediction;
    let dir: string | null = null;
    try {
      let input = p.input;
      if (files.some((f) => input[f] !== null && input[f] !== undefined)) {
        dir = await makeTempDir();
        input = await resolveFileInputs(
          input,
          files,
          dir,
          this.options.fileLimits ?? DEFAULT_FILE_LIMITS,
          p.cancelController.signal,
          this.options.localFile,
        );
      }
      const cache = this.options.cache;
      if (cache && p.kind === "predict" && !p.cancelRequested && schema) {
        const key =
          p.cacheDirective === "bypass"
            ? (cache.skip(), null)
            : await cache.keyFor(input, files, Object.keys(schema.input.properties ?? {}));
        const hit =
          key && p.cacheDirective === "use"
            ? await cache.lookup(key, p.finished, p.cancelController.signal)
            : null;
        if (hit) {
          dir ??= await makeTempDir();
          await this.serveCached(p, await cache.materialize(hit, dir));
          return;
        }
        entry.cacheKey = key;
      }
      this.dispatch(entry, input);
      if (entry.dispatched) await p.finished;
    } catch (err) {
      if (p.cancelRequested) p.finish("canceled");
      else p.finish("failed", { error: (err as Error).message });
    } finally {
      if (!p.terminal) p.finish("failed", { error: "internal error: the prediction ended without a result" });
      await removeTempDir(dir).catch((err: unknown) =>
        this.options.logger.warn("could not remove temp dir", { dir, err }),
      );
    }
  }

  /** The predict frame, its input serialized once; a big input the client sees as sent shares the bytes. */
  private sendPredict(p: Prediction, input: Record<string, unknown>): boolean {
    const message = { type: "predict", id: p.id, kind: p.kind, input, context: p.context } as const;
    // Big request strings (kept as their bytes) follow the frame as attachments: never re-serialized.
    const { input: inline, attachments } = detachInputs(input);
    const json = JSON.stringify(inline);
    if (json.length < RAW_ATTACHMENT_MIN_BYTES)
      return this.options.worker.sendFrame(encodePredictFrame(message, json, attachments));
    const bytes = Buffer.from(json);
    if (input === p.publicInput && attachments.length === 0)
      p.sharePublicInputJson(new RawJson([bytes], bytes.length, input));
    return this.options.worker.sendFrame(encodePredictFrame(message, bytes, attachments));
  }

  /** Answers a prediction from the output cache: the same output, files served again. */
  private async serveCached(p: Prediction, output: unknown): Promise<void> {
    const encode = (value: unknown) =>
      encodeOutputFiles(value, { uploadUrl: this.options.uploadUrl, store: p.outputFiles });
    p.markProcessing();
    p.setMetric("cache_hit", true);
    if (p.iterator && Array.isArray(output)) {
      for (const chunk of output) p.addOutputChunk(await encode(chunk));
      p.finish("succeeded");
    } else {
      p.finish("succeeded", { output: await encode(output) });
    }
  }

  /** Stores a successful output under the prediction's cache key; a failing store never fails it. */
  private async storeCached(entry: Running, output: unknown): Promise<void> {
    const { cache } = this.options;
    if (!cache || entry.cacheKey === null) return;
    entry.prediction.setMetric("cache_hit", false);
    const value = Array.isArray(output) ? output.map(materialize) : materialize(output);
    await cache
      .put(entry.cacheKey, value)
      .catch((err: unknown) =>
        this.options.logger.warn("could not store the output in the cache", { id: entry.prediction.id, err }),
      );
  }

  private release(p: Prediction): void {
    if (this.running.get(p.id)?.prediction !== p) return;
    this.running.delete(p.id);
    const keep = this.options.retainCompleted ?? 0;
    if (keep > 0) {
      this.recent.set(p.id, p);
      while (this.recent.size > keep) this.recent.delete(this.recent.keys().next().value as string);
    }
    this.options.logger.info("prediction finished", {
      id: p.id,
      kind: p.kind,
      status: p.status,
      predict_time: p.metrics.predict_time,
    });
    this.emit("completed", p);
    this.emit("slot-freed");
  }

  private onMessage(m: WorkerMessage): void {
    if (!("id" in m) || typeof m.id !== "string") {
      if (m.type === "log") this.onUserOutput(m.source, m.data);
      return;
    }
    const entry = this.running.get(m.id);
    if (!entry) return;
    const p = entry.prediction;
    const encode = (value: unknown) =>
      encodeOutputFiles(value, { uploadUrl: this.options.uploadUrl, store: p.outputFiles });
    switch (m.type) {
      case "log":
        p.addLog(m.source, m.data);
        return;
      case "metric":
        p.setMetric(m.name, m.value, m.mode);
        return;
      case "output":
        if (entry.cacheKey !== null) entry.rawChunks.push(m.chunk);
        this.queue(entry, async () => {
          try {
            p.addOutputChunk(await encode(m.chunk));
          } catch (err) {
            p.finish("failed", { error: `could not deliver an output file: ${(err as Error).message}` });
          }
        });
        return;
      case "done":
        // The common end: nothing before it still being encoded, nothing to store, no file in the
        // output. It finishes now instead of a few promises later.
        if (entry.queued === 0 && entry.cacheKey === null && !mayHoldFiles(m.output)) {
          if (p.cancelRequested) return void p.finish("canceled");
          if (!("output" in m)) return void p.finish("succeeded", p.iterator ? {} : { output: null });
          p.finish("succeeded", { output: (p.iterator ? materialize(m.output) : m.output) ?? null });
          return;
        }
        this.queue(entry, async () => {
          if (p.cancelRequested) return void p.finish("canceled");
          try {
            await this.storeCached(entry, p.iterator ? entry.rawChunks : "output" in m ? m.output : null);
            // An iterator's whole list returned at once is adopted chunk by chunk: it must be a value.
            const value = p.iterator ? materialize(m.output) : m.output;
            const output = "output" in m ? await encode(value) : undefined;
            p.finish("succeeded", output === undefined && p.iterator ? {} : { output: output ?? null });
          } catch (err) {
            p.finish("failed", { error: `could not deliver an output file: ${(err as Error).message}` });
          }
        });
        return;
      case "failed":
        this.queue(entry, () => {
          p.finish(p.cancelRequested ? "canceled" : "failed", p.cancelRequested ? {} : { error: m.error });
        });
        return;
      case "canceled":
        this.queue(entry, () => void p.finish("canceled"));
        return;
    }
  }

  /** Runs `step` after the prediction's earlier steps (output files being encoded); at once if none. */
  private queue(entry: Running, step: () => void | Promise<void>): void {
    if (entry.queued === 0) {
      const result = step();
      if (!(result instanceof Promise)) return;
      entry.queued++;
      entry.chain = result.finally(() => void entry.queued--);
      return;
    }
    entry.queued++;
    entry.chain = entry.chain.then(step).finally(() => void entry.queued--);
  }

  private onUserOutput(source: "stdout" | "stderr", data: string): void {
    // Raw fd1/fd2 can only be attributed when exactly one prediction is running in the worker.
    let only: Prediction | null = null;
    let count = 0;
    for (const e of this.running.values()) {
      if (!e.dispatched || e.prediction.terminal) continue;
      count++;
      only = e.prediction;
    }
    if (count === 1 && only) only.addLog(source, data);
    else this.options.onStrayOutput?.(source, data);
  }

  private workerGoneMessage(exit?: WorkerExit | null): string {
    const e = exit ?? this.options.worker.exitInfo;
    return `the predictor worker is gone (${e?.reason ?? "not running"}); the server cannot run predictions until it is restarted`;
  }

  private onWorkerExit(exit: WorkerExit): void {
    for (const entry of this.running.values()) {
      const p = entry.prediction;
      this.queue(entry, () => {
        if (p.cancelRequested) p.finish("canceled");
        else p.finish("failed", { error: `prediction failed: ${this.workerGoneMessage(exit)}` });
      });
    }
  }
}
