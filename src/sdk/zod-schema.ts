/**
 * zod schemas -> Cog-shaped JSON Schema fragments (OpenAPI 3.0 dialect). We walk zod's definitions
 * ourselves instead of using z.toJSONSchema so that the result is exactly what a Python predictor with
 * the same signature produces (titles, x-order, enum components, nullable, x-cog-* markers).
 */
import { z } from "zod";
import { titleCase } from "../schema/fragments.js";
import type { JsonSchema } from "../schema/types.js";
import { IteratorOutput, KIND_KEY } from "./kinds.js";

/** A predictor's inputs/output cannot be expressed in the schema; names the field and the reason. */
export class PredictorSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PredictorSchemaError";
  }
}

interface Def {
  type: string;
  [key: string]: unknown;
}
type AnyZod = z.ZodType;

const defOf = (s: AnyZod): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** What the wrappers around a base type say (optional, nullable, default, metadata). */
export interface Unwrapped {
  base: AnyZod;
  optional: boolean;
  nullable: boolean;
  hasDefault: boolean;
  defaultValue: unknown;
  meta: Record<string, unknown>;
}

const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "readonly",
  "catch",
  "nonoptional",
  "pipe",
]);

export function unwrap(schema: AnyZod): Unwrapped {
  const out: Unwrapped = {
    base: schema,
    optional: false,
    nullable: false,
    hasDefault: false,
    defaultValue: undefined,
    meta: {},
  };
  let current = schema;
  for (;;) {
    const meta = z.globalRegistry.get(current);
    // Outer layers win: .describe() on the outside overrides a description set further in.
    if (meta) for (const [k, v] of Object.entries(meta)) if (!(k in out.meta)) out.meta[k] = v;
    const def = defOf(current);
    if (!WRAPPERS.has(def.type)) break;
    if (def.type === "optional") out.optional = true;
    if (def.type === "nullable") out.nullable = true;
    // .prefault() is a default on the input side (before transforms): what the schema should show.
    if ((def.type === "default" || def.type === "prefault") && !out.hasDefault) {
      out.hasDefault = true;
      out.defaultValue = def.defaultValue;
    }
    const inner = (def.type === "pipe" ? def.in : def.innerType) as AnyZod | undefined;
    if (!inner) break;
    current = inner;
  }
  out.base = current;
  return out;
}

interface Check {
  check: string;
  [key: string]: unknown;
}
const checksOf = (def: Def): Check[] =>
  ((def.checks as { _zod: { def: Check } }[] | undefined) ?? []).map((c) => c._zod.def);

/** Values of an enum-like base (z.enum, z.literal), or null. */
export function enumValues(base: AnyZod): unknown[] | null {
  const def = defOf(base);
  if (def.type === "enum") return Object.values(def.entries as Record<string, unknown>);
  if (def.type === "literal") return [...(def.values as unknown[])];
  return null;
}

function enumType(values: unknown[], where: string): string {
  if (values.every((v) => typeof v === "string")) return "string";
  if (values.every((v) => typeof v === "number" && Number.isInteger(v))) return "integer";
  if (values.every((v) => typeof v === "number")) return "number";
  throw new PredictorSchemaError(`${where}: choices must be all strings or all numbers`);
}

function stringFragment(def: Def): JsonSchema {
  const out: JsonSchema = { type: "string" };
  for (const c of checksOf(def)) {
    if (c.check === "min_length") out.minLength = c.minimum;
    else if (c.check === "max_length") out.maxLength = c.maximum;
    else if (c.check === "length_equals") out.minLength = out.maxLength = c.length;
    else if (c.check === "string_format" && c.format === "regex" && c.pattern instanceof RegExp)
      out.pattern = c.pattern.source;
  }
  return out;
}

function numberFragment(def: Def): JsonSchema {
  // z.int() carries its format on the def itself; z.number().int() as a check.
  const out: JsonSchema = {
    type: typeof def.format === "string" && /int/.test(def.format) ? "integer" : "number",
  };
  for (const c of checksOf(def)) {
    if (c.check === "number_format" && typeof c.format === "string" && /int/.test(c.format))
      out.type = "integer";
    else if (c.check === "greater_than") {
      out.minimum = c.value;
      if (c.inclusive !== true) out.exclusiveMinimum = true;
    } else if (c.check === "less_than") {
      out.maximum = c.value;
      if (c.inclusive !== true) out.exclusiveMaximum = true;
    }
  }
  return out;
}

/**
 * The type fragment of a schema without title/x-order/default (those belong to the property).
 * `where` names the place for error messages, e.g. "input 'steps'".
 */
export function typeFragment(schema: AnyZod, where: string, asOutput = false): JsonSchema {
  const u = unwrap(schema);
  const kind = u.meta[KIND_KEY];
  if (kind === "file") return { type: "string", format: "uri" };
  if (kind === "secret") return { type: "string", format: "password", writeOnly: true, "x-cog-secret": true };
  const def = defOf(u.base);
  const values = enumValues(u.base);
  if (values) return { type: enumType(values, where), enum: values };
  switch (def.type) {
    case "string":
      return stringFragment(def);
    case "number":
    case "int":
      return numberFragment(def);
    case "boolean":
      return { type: "boolean" };
    case "array": {
      const out: JsonSchema = {
        type: "array",
        items: typeFragment(def.element as AnyZod, `${where} items`, asOutput),
      };
      for (const c of checksOf(def)) {
        if (c.check === "min_length") out.minItems = c.minimum;
        else if (c.check === "max_length") out.maxItems = c.maximum;
      }
      return out;
    }
    case "object":
      return asOutput ? modelFragment(u.base as z.ZodObject, where) : { type: "object" };
    case "record":
      return { type: "object" };
    case "any":
    case "unknown":
      return {};
    case "null":
    case "void":
    case "undefined":
      // Python's `-> None`: OpenAPI 3.0 has no null type, so the output is untyped.
      if (!asOutput) throw new PredictorSchemaError(`${where}: an input cannot be null-only`);
      return {};
    default:
      throw new PredictorSchemaError(
        `${where}: zod type '${def.type}' is not supported (use string, number, int, boolean, enum, literal, array, object, file(), secret())`,
      );
  }
}

/** An object output (Cog's BaseModel output): its fields with titles, required when not optional. */
function modelFragment(obj: z.ZodObject, where: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(obj.shape as Record<string, AnyZod>)) {
    const u = unwrap(field);
    properties[name] = {
      ...typeFragment(field, `${where} field '${name}'`, true),
      title: (u.meta.title as string) ?? titleCase(name),
    };
    if (u.nullable || u.optional) properties[name].nullable = true;
    if (!u.optional && !u.hasDefault && !u.nullable) required.push(name);
  }
  const out: JsonSchema = { type: "object", properties };
  if (required.length > 0) out.required = required;
  return out;
}

/** The Output component for an output spec (a zod schema or an iterator()). */
export function outputSchema(output: AnyZod | IteratorOutput): JsonSchema {
  if (output instanceof IteratorOutput) {
    const out: JsonSchema = {
      type: "array",
      items: typeFragment(output.item, "output items", true),
      title: "Output",
      "x-cog-array-type": "iterator",
    };
    if (output.concatenate) out["x-cog-array-display"] = "concatenate";
    if (output.description) out.description = output.description;
    return out;
  }
  const u = unwrap(output);
  const out: JsonSchema = { ...typeFragment(output, "output", true), title: "Output" };
  if (typeof u.meta.description === "string") out.description = u.meta.description;
  if (u.nullable || u.optional) out.nullable = true;
  return out;
}
