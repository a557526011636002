/**
 * The schema of a predictor as a worker reports it: JSON Schema fragments in the OpenAPI 3.0 dialect
 * Cog uses. src/schema/openapi.ts wraps it into the full OpenAPI document; the build stores that in the
 * `run.cog.openapi_schema` label; the server serves it at /openapi.json and validates inputs with it.
 */

/** A JSON Schema object (OpenAPI 3.0 flavour: `nullable`, `x-order`, `x-cog-*`). */
export type JsonSchema = { [key: string]: unknown };

export interface PredictorSchema {
  /** The `Input` component: {title: "Input", type: "object", properties, required?}. */
  input: JsonSchema;
  /** The `Output` component: {title: "Output", ...type fragment}. */
  output: JsonSchema;
  /** Extra components, e.g. one enum component per choices/Literal input, keyed by name. */
  components: Record<string, JsonSchema>;
  /**
   * True for a train-only model (cog.yaml has `train:` but no `predict:`): `input`/`output` are empty
   * and unused, only `train` describes an entry point, and the document has no prediction paths.
   */
  trainOnly?: boolean;
  /** Present when the project has a trainer (`train:` in cog.yaml). */
  train?: {
    input: JsonSchema;
    output: JsonSchema;
    components: Record<string, JsonSchema>;
  };
}
