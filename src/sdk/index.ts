/**
 * kiln's TypeScript predictor SDK: what `import ... from "kiln-ml"` gives a predict.ts.
 *
 * ```ts
 * import { definePredictor, z, file, fileOutput, concatenateIterator } from "kiln-ml";
 * export const predictor = definePredictor({
 *   inputs: { prompt: z.string().describe("What to say").max(100) },
 *   output: z.string(),
 *   predict: ({ prompt }) => prompt.toUpperCase(),
 * });
 * ```
 */
/** zod (v4), the same instance kiln reads schemas with: declare inputs and outputs with it. */
export { z } from "zod";
export {
  definePredictor,
  type InputOf,
  type InputsSpec,
  type MetricMode,
  type OutputSpec,
  type PredictContext,
  type PredictResult,
  type Predictor,
  type PredictorDefinition,
  type Returned,
  type SetupContext,
} from "./predictor.js";
export {
  defineTrainer,
  trainingOutput,
  type TrainContext,
  type Trainer,
  type TrainerDefinition,
  type TrainingOutputSchema,
  type TrainingOutputShape,
} from "./trainer.js";
export { concatenateIterator, file, iterator, IteratorOutput, secret } from "./kinds.js";
export { fileOutput, KilnFile, Secret } from "./values.js";
export { PredictorSchemaError } from "./zod-schema.js";
