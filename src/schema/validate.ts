/**
 * Input validation against a predictor's schema, with pydantic-style messages so clients written for
 * Cog see familiar 422 bodies. Pure and allocation-light: it runs on every request.
 */
import { checkValue } from "./checks.js";
import { isPlainObject } from "./refs.js";
import type { JsonSchema, PredictorSchema } from "./types.js";

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export type InputValidation =
  { ok: true; value: Record<string, unknown>; dropped: string[] } | { ok: false; errors: ValidationIssue[] };

/** Defaults are JSON values; a fresh copy per request keeps predictors from mutating shared state. */
function cloneDefault(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneDefault);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneDefault((value as Record<string, unknown>)[key]);
  return out;
}

interface Field {
  name: string;
  prop: JsonSchema;
  required: boolean;
  hasDefault: boolean;
}
interface Compiled {
  fields: Field[];
  names: Set<string>;
}
const compiledInputs = new WeakMap<JsonSchema, Compiled>();

function compile(input: JsonSchema): Compiled {
  let c = compiledInputs.get(input);
  if (!c) {
    const properties = isPlainObject(input.properties)
      ? (input.properties as Record<string, JsonSchema>)
      : {};
    const required = new Set(Array.isArray(input.required) ? (input.required as string[]) : []);
    const fields = Object.keys(properties).map((name) => {
      const prop = properties[name] as JsonSchema;
      return { name, prop, required: required.has(name), hasDefault: "default" in prop };
    });
    c = { fields, names: new Set(Object.keys(properties)) };
    compiledInputs.set(input, c);
  }
  return c;
}

/**
 * Validates a request's `input` for the predictor (or trainer). Missing/null input means {}. Defaults
 * are applied, optional inputs without a default become null, unknown keys are dropped and listed.
 */
export function validateInput(
  schema: PredictorSchema,
  input: unknown,
  kind: "predict" | "train" = "predict",
): InputValidation {
  const part = kind === "train" ? schema.train : schema;
  if (!part) {
    return { ok: false, errors: [{ loc: ["body"], msg: "This model has no trainer", type: "no_trainer" }] };
  }
  const body = input ?? {};
  if (!isPlainObject(body)) {
    return {
      ok: false,
      errors: [{ loc: ["body", "input"], msg: "Input should be a valid dictionary", type: "dict_type" }],
    };
  }
  const { fields, names } = compile(part.input);
  const errors: ValidationIssue[] = [];
  const value: Record<string, unknown> = {};
  for (const { name, prop, required, hasDefault } of fields) {
    const given = body[name];
    if (given === undefined) {
      if (hasDefault) value[name] = cloneDefault(prop.default);
      else if (required)
        errors.push({ loc: ["body", "input", name], msg: "Field required", type: "missing" });
      else value[name] = null;
      continue;
    }
    // An optional input may always be sent as null explicitly.
    if (given === null && !required && !hasDefault) {
      value[name] = null;
      continue;
    }
    checkValue(prop, given, ["body", "input", name], part.components, errors);
    value[name] = given;
  }
  if (errors.length > 0) return { ok: false, errors };
  const dropped: string[] = [];
  // `additionalProperties: true` (a Python predict(**kwargs)): undeclared inputs are passed through.
  const passThrough = part.input.additionalProperties === true;
  for (const key in body) {
    if (names.has(key)) continue;
    if (passThrough) value[key] = body[key];
    else dropped.push(key);
  }
  return { ok: true, value, dropped };
}
