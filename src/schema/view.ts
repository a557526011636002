/**
 * A flat view of a model's OpenAPI document for the CLI: one FieldSpec per input, with its kind,
 * limits and choices resolved (through `allOf: [{$ref}]` enum components), so `-i` values can be
 * coerced and mistakes explained. Works for kiln and Cog images alike (both store the document in the
 * `run.cog.openapi_schema` label and serve it at /openapi.json).
 */
import { isPlainObject, resolveSchema } from "./refs.js";
import type { JsonSchema, PredictorSchema } from "./types.js";

export type FieldKind =
  "string" | "integer" | "number" | "boolean" | "file" | "secret" | "object" | "array" | "union" | "any";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  /** For arrays: the kind of each item. */
  items?: FieldSpec | undefined;
  /** For unions (`anyOf`, e.g. Python `str | float`): the members, in declaration order. */
  members?: FieldSpec[] | undefined;
  choices?: unknown[] | undefined;
  minimum?: number | undefined;
  maximum?: number | undefined;
  /** OpenAPI 3.0 boolean form: the bound itself is not allowed. */
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  pattern?: string | undefined;
  hasDefault: boolean;
  default?: unknown;
  nullable: boolean;
  description?: string | undefined;
}

export interface SchemaView {
  /** Inputs in x-order. */
  fields: FieldSpec[];
  byName: Map<string, FieldSpec>;
  required: Set<string>;
  /** The Output component (for file detection and iterator display). */
  output: JsonSchema;
  /** The schema as src/schema's validator takes it. */
  schema: PredictorSchema;
}

type OpenApiLike = { components?: { schemas?: Record<string, JsonSchema> } };

/** Which entry point a view describes: predictions (Input/Output) or trainings (TrainingInput/TrainingOutput). */
export type ViewKind = "predict" | "train";

const COMPONENTS: Record<ViewKind, { input: string; output: string }> = {
  predict: { input: "Input", output: "Output" },
  train: { input: "TrainingInput", output: "TrainingOutput" },
};

/** True when the document describes a trainer (`train:` in cog.yaml): it has a TrainingInput component. */
export function hasTrainer(doc: unknown): boolean {
  return isPlainObject((doc as OpenApiLike | null)?.components?.schemas?.["TrainingInput"]);
}

/** The PredictorSchema inside an OpenAPI document (for src/schema's validateInput). */
function predictorSchemaOf(doc: unknown, kind: ViewKind): PredictorSchema {
  const names = COMPONENTS[kind];
  const schemas = (doc as OpenApiLike | null)?.components?.schemas;
  const input = schemas?.[names.input];
  if (!schemas || !isPlainObject(input)) {
    throw new Error(`the OpenAPI document has no components.schemas.${names.input}`);
  }
  const components: Record<string, JsonSchema> = {};
  for (const [name, value] of Object.entries(schemas)) {
    if (name !== names.input && name !== names.output && isPlainObject(value)) components[name] = value;
  }
  const output = schemas[names.output];
  return { input, output: isPlainObject(output) ? output : {}, components };
}

export function schemaView(doc: unknown, kind: ViewKind = "predict"): SchemaView {
  const schema = predictorSchemaOf(doc, kind);
  const props = isPlainObject(schema.input["properties"])
    ? (schema.input["properties"] as Record<string, JsonSchema>)
    : {};
  const required = new Set(
    Array.isArray(schema.input["required"]) ? (schema.input["required"] as string[]) : [],
  );
  const ordered = Object.entries(props).sort(([, a], [, b]) => order(a) - order(b));
  const fields = ordered.map(([name, prop]) => fieldSpec(name, prop, schema.components));
  return {
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    required,
    output: schema.output,
    schema,
  };
}

function order(p: JsonSchema): number {
  return typeof p["x-order"] === "number" ? p["x-order"] : Number.MAX_SAFE_INTEGER;
}

function fieldSpec(name: string, raw: JsonSchema, components: Record<string, JsonSchema>): FieldSpec {
  const p = resolveSchema(raw, components);
  const spec: FieldSpec = {
    name,
    kind: kindOf(p),
    hasDefault: "default" in p,
    default: p["default"],
    nullable: p["nullable"] === true,
    description: typeof p["description"] === "string" ? p["description"] : undefined,
    choices: Array.isArray(p["enum"]) ? p["enum"] : undefined,
    minimum: num(p["minimum"]),
    maximum: num(p["maximum"]),
    exclusiveMinimum: p["exclusiveMinimum"] === true,
    exclusiveMaximum: p["exclusiveMaximum"] === true,
    minLength: num(p["minLength"]),
    maxLength: num(p["maxLength"]),
    pattern: typeof p["pattern"] === "string" ? p["pattern"] : undefined,
  };
  if (spec.kind === "array") {
    spec.items = fieldSpec(`${name}[]`, isPlainObject(p["items"]) ? p["items"] : {}, components);
  }
  if (spec.kind === "union") {
    spec.members = (p["anyOf"] as unknown[]).filter(isPlainObject).map((m) => fieldSpec(name, m, components));
  }
  return spec;
}

function kindOf(p: JsonSchema): FieldKind {
  if (Array.isArray(p["anyOf"])) return "union";
  switch (p["type"]) {
    case "integer":
    case "number":
    case "boolean":
    case "object":
    case "array":
      return p["type"];
    case "string":
      if (p["format"] === "uri") return "file";
      if (p["format"] === "password" || p["x-cog-secret"] === true) return "secret";
      return "string";
    default:
      return "any";
  }
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** "an integer from 1 to 50", "one of: a, b", "a file (@path, URL or data URI)", ... */
export function describeField(f: FieldSpec): string {
  if (f.choices && f.choices.length > 0)
    return `one of: ${f.choices.map((c) => JSON.stringify(c)).join(", ")}`;
  const base = KIND_TEXT[f.kind];
  if (f.kind === "union" && f.members) return f.members.map(describeField).join(" or ");
  if (f.kind === "array") {
    const each = f.items && f.items.kind !== "any" ? `, each ${describeField(f.items)}` : "";
    return `a list (repeat -i ${f.name}=...)${each}`;
  }
  const range = rangeText(f);
  return range ? `${base} ${range}` : base;
}

const KIND_TEXT: Record<FieldKind, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean (true or false)",
  file: "a file (@path, an http(s) URL or a data: URI)",
  secret: "a secret string",
  object: "a JSON object",
  array: "a list",
  union: "one of several kinds",
  any: "any JSON value",
};

function rangeText(f: FieldSpec): string {
  const lo = f.minimum !== undefined ? `${f.exclusiveMinimum ? ">" : ">="} ${f.minimum}` : undefined;
  const hi = f.maximum !== undefined ? `${f.exclusiveMaximum ? "<" : "<="} ${f.maximum}` : undefined;
  if (lo && hi)
    return f.exclusiveMinimum || f.exclusiveMaximum ? `${lo} and ${hi}` : `from ${f.minimum} to ${f.maximum}`;
  if (lo ?? hi) return lo ?? hi ?? "";
  const parts: string[] = [];
  if (f.minLength !== undefined) parts.push(`at least ${f.minLength} characters`);
  if (f.maxLength !== undefined) parts.push(`at most ${f.maxLength} characters`);
  if (f.pattern !== undefined) parts.push(`matching /${f.pattern}/`);
  return parts.join(", ");
}
