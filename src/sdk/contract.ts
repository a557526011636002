/**
 * The contract between a predictor object (made by definePredictor, bundled with the user's code) and
 * the node worker. The worker never imports zod or the SDK: it finds this interface on the exported
 * value under a global symbol, so the SDK copy inside the user's bundle is the one that runs.
 */
import type { JsonSchema } from "../schema/types.js";

export const PREDICTOR_SYMBOL_KEY = "kiln.predictor";
export const CONTRACT_VERSION = 1;

export interface PredictorSchemaPart {
  input: JsonSchema;
  output: JsonSchema;
  components: Record<string, JsonSchema>;
}

/** What the worker gives a running prediction. */
export interface RuntimePredictContext {
  id: string;
  signal: AbortSignal;
  context: Record<string, string>;
  /** Appends text to this prediction's logs (stdout). */
  log(text: string): void;
  recordMetric(name: string, value: unknown, mode: "replace" | "incr" | "append"): void;
}

export interface RuntimeSetupContext {
  /** COG_WEIGHTS or null. */
  weights: string | null;
  log(text: string): void;
}

/** The result of starting one prediction: a single value or a stream of items. */
export type RuntimeResult =
  { kind: "value"; value: unknown } | { kind: "stream"; items: AsyncIterator<unknown> };

export interface PredictorRuntime {
  contract: typeof CONTRACT_VERSION;
  schema(): PredictorSchemaPart;
  hasHealthcheck: boolean;
  setup(ctx: RuntimeSetupContext): Promise<void>;
  /** Prepares the input (wraps secrets, applies zod) and runs predict. Throws on user errors. */
  run(input: Record<string, unknown>, ctx: RuntimePredictContext): Promise<RuntimeResult>;
  /** Turns a returned value (or one streamed item) into JSON, files as {"$file": "/abs/path"}. */
  encodeOutput(value: unknown): unknown;
  /** Resolves true when healthy; false or a throw means unhealthy. */
  healthcheck(): Promise<boolean>;
}
