/**
 * defineTrainer and trainingOutput: Cog's `train:` interface in TypeScript. A trainer is a predictor
 * whose entry point is `train` and whose output is, by default, Cog's `TrainingOutput` (an object with
 * a `weights` file), so `/openapi.json` shows the same `TrainingOutput` component a Python trainer
 * returning `TrainingOutput(weights=Path(...))` produces.
 */
import { z } from "zod";
import { file } from "./kinds.js";
import {
  definePredictor,
  type InputOf,
  type InputsSpec,
  type OutputSpec,
  type PredictContext,
  type PredictResult,
  type Predictor,
  type PredictorDefinition,
  type SetupContext,
} from "./predictor.js";
import { PredictorSchemaError } from "./zod-schema.js";

/** The shape of Cog's `TrainingOutput`: `weights`, a file, plus any fields of your own. */
export type TrainingOutputShape<E extends Record<string, z.ZodType> = Record<never, never>> = {
  weights: z.ZodString;
} & E;

/** The output schema trainingOutput() returns (the default output of defineTrainer). */
export type TrainingOutputSchema<E extends Record<string, z.ZodType> = Record<never, never>> = z.ZodObject<
  TrainingOutputShape<E>
>;

/**
 * Cog's `TrainingOutput`: an object whose `weights` field is a file (return a path or
 * `fileOutput(path)` for it). `kiln train` writes that file to `./weights` (or `-o PATH`); a new
 * version built with `kiln build --weights PATH` reads it in `setup(ctx)` as `ctx.weights`.
 * Extra fields (metrics, a summary) go in `extra`; they are listed after `weights`.
 *
 * @example
 * ```ts
 * output: trainingOutput({ loss: z.number() }),
 * train: async ({ data }) => ({ weights: await fit(data), loss: 0.12 }),
 * ```
 */
export function trainingOutput(): TrainingOutputSchema;
export function trainingOutput<E extends Record<string, z.ZodType>>(extra: E): TrainingOutputSchema<E>;
export function trainingOutput(extra: Record<string, z.ZodType> = {}): z.ZodObject {
  if ("weights" in extra) {
    throw new PredictorSchemaError(
      "trainingOutput(extra): `weights` is always the trained weights file; give the other fields other names",
    );
  }
  return z.object({ weights: file(), ...extra });
}

/** The context of one training: the same as a prediction's (id, signal, log, recordMetric). */
export type TrainContext = PredictContext;

export interface TrainerDefinition<I extends InputsSpec, O extends OutputSpec = TrainingOutputSchema> {
  /** Training inputs (data URLs as file(), hyperparameters with defaults and limits). */
  inputs: I;
  /** The training's output; trainingOutput() (Cog's TrainingOutput, `{ weights }`) when left out. */
  output?: O;
  /** Runs once before the first training (load a base model here). */
  setup?: (ctx: SetupContext) => void | Promise<void>;
  /** Runs one training: cancel when `ctx.signal` aborts, return the trained weights. */
  train: (input: InputOf<I>, ctx: TrainContext) => PredictResult<O>;
  /** Optional health probe: return false or throw to report UNHEALTHY. */
  healthcheck?: () => boolean | void | Promise<boolean | void>;
}

/** The value to export from train.ts (`train: "train.ts:trainer"` in cog.yaml). */
export type Trainer<I extends InputsSpec, O extends OutputSpec = TrainingOutputSchema> = Predictor<I, O>;

/**
 * Declares a trainer, the TypeScript side of Cog's `train:` entry point: typed inputs, a `train`
 * function, and an output that defaults to trainingOutput() (`{ weights: file }`). Export it and name
 * it in cog.yaml (`train: "train.ts:trainer"`); the server then answers `POST /trainings` and
 * `kiln train -i name=value` runs it.
 *
 * @example
 * ```ts
 * import { defineTrainer, file, z } from "kiln-ml";
 * export const trainer = defineTrainer({
 *   inputs: { data: file().describe("Training data"), epochs: z.int().min(1).default(1) },
 *   async train({ data, epochs }, ctx) {
 *     ctx.log(`training ${epochs} epochs`);
 *     return { weights: await fineTune(data, epochs, ctx.signal) }; // a path to the weights file
 *   },
 * });
 * ```
 */
export function defineTrainer<I extends InputsSpec, O extends OutputSpec = TrainingOutputSchema>(
  definition: TrainerDefinition<I, O>,
): Trainer<I, O>;
/** The earlier spelling: a predictor definition (`predict` runs the training), any output. */
export function defineTrainer<I extends InputsSpec, O extends OutputSpec>(
  definition: PredictorDefinition<I, O>,
): Predictor<I, O>;
export function defineTrainer(
  definition: TrainerDefinition<InputsSpec, OutputSpec> | PredictorDefinition<InputsSpec, OutputSpec>,
): Predictor<InputsSpec, OutputSpec> {
  if ("predict" in definition) return definePredictor(definition);
  const { train, output, ...rest } = definition;
  if (typeof train !== "function") {
    throw new PredictorSchemaError("defineTrainer: `train` must be a function (it runs one training)");
  }
  return definePredictor({ ...rest, output: output ?? trainingOutput(), predict: train });
}
