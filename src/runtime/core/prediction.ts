/**
 * One prediction (or training): its state machine and its event history. HTTP-agnostic so the container
 * API, SSE, webhooks and the hosted /v1 facade all render the same object their own way.
 */
import type { PredictorKind } from "../protocol.js";
import type { CacheDirective } from "../cache/policy.js";
import type { OutputFileStore } from "../files.js";
import { StreamRedactor, type Redactor } from "../redact.js";
import { applyMetric, type MetricMode } from "./metrics.js";
import type { RawJson } from "../raw-json.js";

export type PredictionStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled";
export type TerminalStatus = "succeeded" | "failed" | "canceled";

export type PredictionEvent =
  | { type: "start" }
  | { type: "output"; chunk: unknown; index: number }
  | { type: "log"; source: "stdout" | "stderr"; data: string }
  | { type: "metric"; name: string; value: unknown; mode: MetricMode }
  | { type: "completed" };

export type PredictionListener = (event: PredictionEvent, prediction: Prediction) => void;

function isTerminal(status: PredictionStatus): status is TerminalStatus {
  return status === "succeeded" || status === "failed" || status === "canceled";
}

/** The container API's prediction JSON (also what webhooks carry). */
export interface PredictionSnapshot {
  id: string;
  input: Record<string, unknown>;
  output: unknown;
  logs: string;
  error: string | null;
  status: PredictionStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  metrics: Record<string, unknown>;
}

export interface PredictionInit {
  id: string;
  kind: PredictorKind;
  /** Validated input as the worker receives it (secrets in clear). */
  input: Record<string, unknown>;
  /** The same input with secrets masked: the only form that leaves the server. */
  publicInput: Record<string, unknown>;
  context: Record<string, string>;
  /** True when the output schema is an iterator: output is the list of chunks. */
  iterator: boolean;
  redact: Redactor;
  /** Retained log bytes; beyond it logs are counted and dropped (a runaway print loop stays bounded). */
  maxLogBytes?: number;
  /** What the request's Cache-Control asked of the output cache (when the server has one). */
  cacheDirective?: CacheDirective;
  /** When it was created, if not now (a fleet replica or gateway mirror adopts the original time). */
  createdAt?: Date | undefined;
  /** Events kept for replay (COG_STREAM_HISTORY_CAPACITY); the oldest after `start` go first. */
  historyCapacity?: number | undefined;
  /** Where this prediction's output files go instead of the server's default (trainings' weights). */
  outputFiles?: OutputFileStore | undefined;
}

const DEFAULT_MAX_LOG_BYTES = 8 * 1024 * 1024;

export class Prediction {
  readonly id: string;
  readonly kind: PredictorKind;
  readonly input: Record<string, unknown>;
  readonly publicInput: Record<string, unknown>;
  readonly context: Record<string, string>;
  readonly iterator: boolean;
  readonly redact: Redactor;
  readonly cacheDirective: CacheDirective;
  readonly createdAt: Date;
  readonly outputFiles: OutputFileStore | undefined;
  startedAt: Date | null = null;
  completedAt: Date | null = null;
  status: PredictionStatus = "starting";
  output: unknown = null;
  logs = "";
  error: string | null = null;
  readonly metrics: Record<string, unknown> = {};
  /** Every event so far, so a late subscriber (SSE re-attach, /v1 stream) can replay. */
  readonly history: PredictionEvent[] = [];
  // Made on first use: most predictions are never canceled nor download anything.
  private controller: AbortController | null = null;
  /** Resolves once the prediction is terminal. */
  readonly finished: Promise<Prediction>;

  private readonly chunks: unknown[] = [];
  private readonly listeners = new Set<PredictionListener>();
  private readonly maxLogBytes: number;
  private readonly historyCapacity: number;
  private logBytes = 0;
  private startedMono: number | null = null;
  /** One per source: a secret split across two reads of the same pipe is still one secret. */
  private readonly logRedactors = new Map<"stdout" | "stderr", StreamRedactor>();
  private droppedLogBytes = 0;
  private resolveFinished!: (p: Prediction) => void;
  /** The public input's JSON when the runner serialized it already (a big input, echoed as those bytes). */
  private publicInputJson: RawJson | null = null;

  constructor(init: PredictionInit) {
    this.id = init.id;
    this.kind = init.kind;
    this.input = init.input;
    this.publicInput = init.publicInput;
    this.context = init.context;
    this.iterator = init.iterator;
    this.redact = init.redact;
    this.cacheDirective = init.cacheDirective ?? "use";
    this.maxLogBytes = init.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.createdAt = init.createdAt ?? new Date();
    this.outputFiles = init.outputFiles;
    this.historyCapacity = Math.max(2, init.historyCapacity ?? Number.POSITIVE_INFINITY);
    if (this.iterator) this.output = this.chunks;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** Renders the public input as `json` (the same value, serialized once for the worker). */
  sharePublicInputJson(json: RawJson): void {
    this.publicInputJson = json;
  }

  get terminal(): boolean {
    return isTerminal(this.status);
  }

  /** Aborted when a cancel is requested; the runner forwards it to downloads and the worker. */
  get cancelController(): AbortController {
    return (this.controller ??= new AbortController());
  }

  get cancelRequested(): boolean {
    return this.controller !== null && this.controller.signal.aborted;
  }

  /** Subscribe to future events; with `replay`, past events are delivered first (synchronously). */
  subscribe(listener: PredictionListener, options: { replay?: boolean } = {}): () => void {
    if (options.replay) for (const e of this.history) listener(e, this);
    if (!this.terminal) this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `at`: when it started, if not now (a mirror replays the time the replica recorded). */
  markProcessing(at?: Date): void {
    if (this.status !== "starting") return;
    this.status = "processing";
    this.startedAt = at ?? new Date();
    // An adopted start time was read on another machine's clock: no local monotonic reading for it.
    this.startedMono = at ? null : performance.now();
    this.emit({ type: "start" });
  }

  addOutputChunk(chunk: unknown): void {
    if (this.terminal) return;
    const index = this.chunks.length;
    this.chunks.push(chunk);
    this.emit({ type: "output", chunk, index });
  }

  addLog(source: "stdout" | "stderr", raw: string): void {
    if (this.terminal || raw.length === 0) return;
    const size = Buffer.byteLength(raw);
    if (this.logBytes + size > this.maxLogBytes) {
      this.droppedLogBytes += size;
      return;
    }
    this.logBytes += size;
    let redactor = this.logRedactors.get(source);
    if (!redactor) this.logRedactors.set(source, (redactor = new StreamRedactor(this.redact)));
    this.appendLog(source, redactor.push(raw));
  }

  private appendLog(source: "stdout" | "stderr", data: string): void {
    if (data.length === 0) return;
    this.logs += data;
    this.emit({ type: "log", source, data });
  }

  /** One user metric update; the event carries what the worker sent (coglet's `{name, value, mode}`). */
  setMetric(name: string, value: unknown, mode: MetricMode = "replace"): void {
    if (this.terminal || name === "predict_time") return;
    applyMetric(this.metrics, name, value, mode);
    this.emit({ type: "metric", name, value, mode });
  }

  /** The one way to a terminal state; later calls are ignored (terminal is set once). */
  finish(status: TerminalStatus, result: { output?: unknown; error?: string } = {}, at?: Date): boolean {
    if (this.terminal) return false;
    const endMono = performance.now();
    for (const [source, redactor] of this.logRedactors) this.appendLog(source, redactor.flush());
    if (this.droppedLogBytes > 0) {
      this.logs += `\n[kiln: ${this.droppedLogBytes} further bytes of logs were dropped]\n`;
    }
    this.status = status;
    this.completedAt = at ?? new Date();
    if (!this.startedAt) this.startedAt = this.completedAt;
    if (status === "succeeded" && "output" in result && !this.iterator) this.output = result.output;
    if (status === "succeeded" && "output" in result && this.iterator && Array.isArray(result.output)) {
      // A worker that returned the full list instead of streaming it: adopt it as the chunks.
      if (this.chunks.length === 0) for (const c of result.output) this.chunks.push(c);
    }
    if (result.error !== undefined) this.error = this.redact(result.error);
    // Monotonic and sub-millisecond when both ends were seen here (a fast prediction still reports a
    // non-zero predict_time); from the recorded times when they were adopted (fleet mirrors), so every
    // gateway reports the same figure.
    this.metrics.predict_time =
      this.startedMono !== null && at === undefined
        ? Math.max(endMono - this.startedMono, 0.001) / 1000
        : (this.completedAt.getTime() - this.startedAt.getTime()) / 1000;
    this.emit({ type: "completed" });
    this.listeners.clear();
    this.resolveFinished(this);
    return true;
  }

  snapshot(): PredictionSnapshot {
    return {
      id: this.id,
      input: (this.publicInputJson ?? this.publicInput) as Record<string, unknown>,
      output: this.iterator ? [...this.chunks] : this.output,
      logs: this.logs,
      error: this.error,
      status: this.status,
      created_at: this.createdAt.toISOString(),
      started_at: this.startedAt?.toISOString() ?? null,
      completed_at: this.completedAt?.toISOString() ?? null,
      metrics: { ...this.metrics },
    };
  }

  private emit(event: PredictionEvent): void {
    // History is bounded: log events by maxLogBytes, the rest by the prediction's own output.
    this.history.push(event);
    if (this.history.length > this.historyCapacity) {
      // A late subscriber still learns the prediction started; the middle of a long stream is what goes.
      this.history.splice(this.history[0]?.type === "start" ? 1 : 0, 1);
    }
    for (const l of this.listeners) {
      try {
        l(event, this);
      } catch {
        // a broken subscriber (e.g. a dead socket) must not break the prediction
      }
    }
  }
}
