/**
 * definePredictor: the one way to declare a TypeScript predictor. Inputs and output are zod schemas,
 * so `input` in predict() is fully typed and the same declaration yields the Cog-compatible schema.
 */
import { format } from "node:util";
import { z } from "zod";
import {
  CONTRACT_VERSION,
  PREDICTOR_SYMBOL_KEY,
  type PredictorRuntime,
  type RuntimePredictContext,
  type RuntimeResult,
} from "./contract.js";
import { encodeValue } from "./encode.js";
import { SECRET_PLACEHOLDER, inputSchema } from "./input-schema.js";
import { IteratorOutput } from "./kinds.js";
import type { KilnFile } from "./values.js";
import { outputSchema } from "./zod-schema.js";

/** Inputs: a record of zod schemas (declaration order = form order) or a z.object. */
export type InputsSpec = Record<string, z.ZodType> | z.ZodObject;
/** Output: a zod schema, or iterator()/concatenateIterator() for streamed output. */
export type OutputSpec = z.ZodType | IteratorOutput;

/** The typed input predict() receives. */
export type InputOf<I extends InputsSpec> = I extends z.ZodObject
  ? z.output<I>
  : I extends Record<string, z.ZodType>
    ? z.output<z.ZodObject<I>>
    : never;

/** A returned value: strings may also be files (a path, or fileOutput(path)). */
export type Returned<T> = T extends string
  ? T | KilnFile
  : T extends readonly (infer U)[]
    ? Returned<U>[]
    : T extends object
      ? { [K in keyof T]: Returned<T[K]> }
      : T;

/** What predict() may return for an output spec. */
export type PredictResult<O extends OutputSpec> =
  O extends IteratorOutput<infer T>
    ? AsyncIterable<Returned<z.input<T>>> | Iterable<Returned<z.input<T>>>
    : O extends z.ZodType
      ? Returned<z.input<O>> | Promise<Returned<z.input<O>>>
      : never;

/** How recordMetric() combines a value with the metric's previous one: replace it, add to it, append to a list. */
export type MetricMode = "replace" | "incr" | "append";

/** The context of one prediction. */
export interface PredictContext {
  /** The prediction id. */
  readonly id: string;
  /** Aborted when the prediction is canceled: pass it to fetch(), check it in loops. */
  readonly signal: AbortSignal;
  /** The request's `context` object. */
  readonly context: Readonly<Record<string, string>>;
  /** Writes a line to this prediction's logs (console.log inside predict does the same). */
  log(...args: unknown[]): void;
  /** Records a metric in the prediction's `metrics`: replace (default), incr (add), append (to a list). */
  recordMetric(name: string, value: unknown, mode?: MetricMode): void;
}

/** The context of setup(). */
export interface SetupContext {
  /** COG_WEIGHTS (a URL or path of weights to load) or null. */
  readonly weights: string | null;
  /** Writes a line to the setup logs (console.log inside setup does the same). */
  log(...args: unknown[]): void;
}

export interface PredictorDefinition<I extends InputsSpec, O extends OutputSpec> {
  /** Input declarations; use .describe(), .default(), .min(), .max(), z.enum(), file(), secret(). */
  inputs: I;
  /** Output declaration; iterator(item) / concatenateIterator() for an async generator predict. */
  output: O;
  /** Runs once before the first prediction: load models here. */
  setup?: (ctx: SetupContext) => void | Promise<void>;
  /** Runs one prediction. Streamed outputs: make it an `async function*` and yield items. */
  predict: (input: InputOf<I>, ctx: PredictContext) => PredictResult<O>;
  /** Optional health probe: return false or throw to report UNHEALTHY. */
  healthcheck?: () => boolean | void | Promise<boolean | void>;
}

/** The value to export from predict.ts (`predict: "predict.ts:predictor"` in cog.yaml). */
export interface Predictor<I extends InputsSpec, O extends OutputSpec> {
  readonly definition: PredictorDefinition<I, O>;
  readonly [key: symbol]: PredictorRuntime;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

function isSyncIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.iterator in value && !Array.isArray(value);
}

function zodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ");
}

function makeRuntime<I extends InputsSpec, O extends OutputSpec>(
  def: PredictorDefinition<I, O>,
): PredictorRuntime {
  const object =
    def.inputs instanceof z.ZodObject ? def.inputs : z.object(def.inputs as Record<string, z.ZodType>);
  const shape = object.shape as Record<string, z.ZodType>;
  // Schema errors surface when the worker loads the module, naming the input at fault.
  const inputs = inputSchema(shape);
  const output = outputSchema(def.output);
  const streamed = def.output instanceof IteratorOutput;
  const spec: OutputSpec = def.output;
  const itemSchema: z.ZodType = spec instanceof IteratorOutput ? spec.item : spec;

  return {
    contract: CONTRACT_VERSION,
    hasHealthcheck: typeof def.healthcheck === "function",
    schema: () => ({ input: inputs.input, output, components: inputs.components }),
    async setup(ctx) {
      if (!def.setup) return;
      await def.setup({ weights: ctx.weights, log: (...args: unknown[]) => ctx.log(format(...args)) });
    },
    async run(raw, rctx: RuntimePredictContext): Promise<RuntimeResult> {
      const prepared: Record<string, unknown> = { ...raw };
      for (const name of inputs.undefinedWhenNull) if (prepared[name] === null) prepared[name] = undefined;
      for (const name of inputs.secretDefaults)
        if (prepared[name] === SECRET_PLACEHOLDER) prepared[name] = undefined;
      const parsed = await object.safeParseAsync(prepared);
      if (!parsed.success) throw new Error(`Invalid input: ${zodIssues(parsed.error)}`);
      // A cancel that arrived while the input was being parsed: predict() would get a signal that is
      // already aborted, and code that only listens for the abort event would never hear it.
      if (rctx.signal.aborted) throw rctx.signal.reason ?? new Error("prediction canceled");
      const ctx: PredictContext = {
        id: rctx.id,
        signal: rctx.signal,
        context: rctx.context,
        log: (...args: unknown[]) => rctx.log(format(...args)),
        recordMetric: (name, value, mode = "replace") => rctx.recordMetric(name, value, mode),
      };
      const result = (await def.predict(parsed.data as InputOf<I>, ctx)) as unknown;
      if (streamed) {
        if (isAsyncIterable(result)) return { kind: "stream", items: result[Symbol.asyncIterator]() };
        if (isSyncIterable(result)) return { kind: "stream", items: toAsync(result[Symbol.iterator]()) };
        throw new Error(
          "predict() must be an async generator (or return an iterable) for an iterator() output",
        );
      }
      return { kind: "value", value: result };
    },
    encodeOutput: (value) => encodeValue(value, itemSchema),
    async healthcheck() {
      if (!def.healthcheck) return true;
      return (await def.healthcheck()) !== false;
    },
  };
}

function toAsync(it: Iterator<unknown>): AsyncIterator<unknown> {
  return {
    next: async () => it.next(),
    return: async (value?: unknown) => (it.return ? it.return(value) : { done: true, value }),
  };
}

/**
 * Declares a predictor: its inputs and output (zod schemas, from which kiln derives the HTTP API and its
 * OpenAPI schema) and the functions the server calls. Export the result and name it in cog.yaml
 * (`predict: "predict.ts:predictor"`); `predict` receives the inputs fully typed.
 *
 * @example
 * ```ts
 * import { definePredictor, z } from "kiln-ml";
 * export const predictor = definePredictor({
 *   inputs: { name: z.string().describe("Who to greet").default("world") },
 *   output: z.string(),
 *   predict: ({ name }, ctx) => {
 *     ctx.log(`greeting ${name}`);
 *     return `Hello, ${name}!`;
 *   },
 * });
 * ```
 */
export function definePredictor<I extends InputsSpec, O extends OutputSpec>(
  definition: PredictorDefinition<I, O>,
): Predictor<I, O> {
  const runtime = makeRuntime(definition);
  return { definition, [Symbol.for(PREDICTOR_SYMBOL_KEY)]: runtime } as Predictor<I, O>;
}
