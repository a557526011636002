/**
 * Helpers shared by every producer of schema fragments (the TS SDK here, the Python worker by the same
 * rules): titles and a canonical key order, so that equivalent predictors in both languages produce
 * byte-identical OpenAPI documents.
 */
import type { JsonSchema } from "./types.js";

/**
 * pydantic's title rule: `name.replace("_", " ").title()`. Python's str.title() upper-cases the first
 * letter of every run of letters and lower-cases the rest ("num_steps" -> "Num Steps", "s1x" -> "S1X").
 */
export function titleCase(name: string): string {
  const spaced = name.replaceAll("_", " ");
  let out = "";
  let prevIsLetter = false;
  for (const ch of spaced) {
    const isLetter = ch.toLowerCase() !== ch.toUpperCase();
    out += isLetter ? (prevIsLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevIsLetter = isLetter;
  }
  return out;
}

// Known keys first in this order (close to what Cog emits), anything else after them alphabetically.
const KEY_ORDER = [
  "allOf",
  "$ref",
  "type",
  "format",
  "items",
  "properties",
  "required",
  "additionalProperties",
  "title",
  "description",
  "default",
  "enum",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "pattern",
  "nullable",
  "deprecated",
  "writeOnly",
  "x-cog-secret",
  "x-cog-array-type",
  "x-cog-array-display",
  "x-order",
];
const RANK = new Map(KEY_ORDER.map((k, i) => [k, i]));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Returns a deep copy of a schema fragment with keys in canonical order. Values under `default` and
 * `enum` are data, not schemas, and keep their own order; `properties` keeps declaration order.
 */
export function canonicalize(schema: JsonSchema): JsonSchema {
  const keys = Object.keys(schema).sort((a, b) => {
    const ra = RANK.get(a) ?? KEY_ORDER.length;
    const rb = RANK.get(b) ?? KEY_ORDER.length;
    return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
  });
  const out: JsonSchema = {};
  for (const key of keys) {
    const value = schema[key];
    if (key === "properties" && isPlainObject(value)) {
      const props: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(value))
        props[name] = isPlainObject(prop) ? canonicalize(prop) : prop;
      out[key] = props;
    } else if ((key === "items" || key === "additionalProperties") && isPlainObject(value)) {
      out[key] = canonicalize(value);
    } else if ((key === "allOf" || key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
      out[key] = value.map((v: unknown) => (isPlainObject(v) ? canonicalize(v) : v));
    } else {
      out[key] = value;
    }
  }
  return out;
}
