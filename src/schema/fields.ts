/**
 * Finds the inputs that need special handling by the server: file inputs (URLs to download, then pass
 * as local paths) and secret inputs (redacted everywhere they could leak), plus the output's shape.
 */
import { resolveSchema } from "./refs.js";
import type { JsonSchema, PredictorSchema } from "./types.js";

export interface SpecialField {
  /** The input's name. */
  name: string;
  /** True for a list of files/secrets: every item is one. */
  list: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isFileSchema = (s: JsonSchema): boolean => s.type === "string" && s.format === "uri";
const isSecretSchema = (s: JsonSchema): boolean => s["x-cog-secret"] === true || s.format === "password";

function partOf(
  schema: PredictorSchema,
  kind: "predict" | "train",
): PredictorSchema | PredictorSchema["train"] {
  return kind === "train" ? schema.train : schema;
}

function fieldsMatching(
  schema: PredictorSchema,
  kind: "predict" | "train",
  test: (s: JsonSchema) => boolean,
): SpecialField[] {
  const part = partOf(schema, kind);
  if (!part || !isPlainObject(part.input.properties)) return [];
  const found: SpecialField[] = [];
  for (const [name, raw] of Object.entries(part.input.properties as Record<string, JsonSchema>)) {
    const prop = resolveSchema(raw, part.components);
    if (test(prop)) found.push({ name, list: false });
    else if (
      prop.type === "array" &&
      isPlainObject(prop.items) &&
      test(resolveSchema(prop.items, part.components))
    ) {
      found.push({ name, list: true });
    }
  }
  return found;
}

/** File inputs (`{type: string, format: uri}`), and lists of them. */
export function fileFields(schema: PredictorSchema, kind: "predict" | "train" = "predict"): SpecialField[] {
  return fieldsMatching(schema, kind, isFileSchema);
}

/** Secret inputs (`x-cog-secret`), and lists of them. */
export function secretFields(schema: PredictorSchema, kind: "predict" | "train" = "predict"): SpecialField[] {
  return fieldsMatching(schema, kind, isSecretSchema);
}

/** How the output arrives: one value, or an iterator of chunks (optionally meant to be concatenated). */
export type OutputKind = "single" | "iterator" | "concatenate";

export function outputKind(schema: PredictorSchema, kind: "predict" | "train" = "predict"): OutputKind {
  const output = partOf(schema, kind)?.output ?? {};
  if (output.type !== "array" || output["x-cog-array-type"] !== "iterator") return "single";
  return output["x-cog-array-display"] === "concatenate" ? "concatenate" : "iterator";
}
