/** A bare runtime Prediction (no input, no secrets) for unit tests of what carries predictions. */
import { Prediction } from "../../src/runtime/core/prediction.js";
import { makeRedactor } from "../../src/runtime/redact.js";

export function barePrediction(opts: { id?: string; iterator?: boolean; createdAt?: Date } = {}): Prediction {
  return new Prediction({
    id: opts.id ?? "p1",
    kind: "predict",
    input: {},
    publicInput: {},
    context: {},
    iterator: opts.iterator ?? false,
    redact: makeRedactor([]),
    createdAt: opts.createdAt,
  });
}
