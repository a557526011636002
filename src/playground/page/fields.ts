/**
 * The model's OpenAPI `Input` schema -> one field description per input, in `x-order`. Pure (no DOM):
 * the form renders these, the unit tests check them.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = { [key: string]: unknown };

export type FieldKind =
  | "text" // one-line string
  | "textarea" // multi-line string (prompts)
  | "integer"
  | "number"
  | "boolean"
  | "choice"
  | "file"
  | "secret"
  | "json"; // objects, Any, unions: edited as JSON text

export interface Field {
  name: string;
  title: string;
  description: string | null;
  kind: FieldKind;
  /** For a list input: the kind of each item (the field's `kind` is then the item kind too). */
  list: boolean;
  required: boolean;
  nullable: boolean;
  deprecated: boolean;
  default: Json | undefined;
  minimum: number | null;
  maximum: number | null;
  exclusiveMinimum: boolean;
  exclusiveMaximum: boolean;
  minLength: number | null;
  maxLength: number | null;
  pattern: string | null;
  choices: (string | number)[] | null;
  /** File inputs: MIME types or extensions the model accepts (`x-cog-accept`/`accept`), if stated. */
  accept: string | null;
  order: number;
}

const REF = "#/components/schemas/";
const PROMPT_NAME = /prompt|text|message|caption|query|instruction|system|template|content|description/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `{allOf:[{$ref}]}` / `{$ref}` merged with the component it points to (Cog's enum form). */
function resolveRef(prop: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const allOf = prop.allOf;
  const ref =
    Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])
      ? allOf[0].$ref
      : typeof prop.$ref === "string"
        ? prop.$ref
        : undefined;
  if (typeof ref !== "string" || !ref.startsWith(REF)) return prop;
  const target = components[ref.slice(REF.length)];
  if (!target) return prop;
  const { allOf: _a, $ref: _r, ...rest } = prop;
  return { ...target, ...rest };
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

function kindOf(s: JsonSchema, name: string, dflt: unknown): FieldKind {
  if (Array.isArray(s.enum) && s.enum.length > 0) return "choice";
  switch (s.type) {
    case "string":
      if (s["x-cog-secret"] === true || s.format === "password") return "secret";
      if (s.format === "uri") return "file";
      if (typeof dflt === "string" && dflt.includes("\n")) return "textarea";
      if (typeof s.maxLength === "number" && s.maxLength < 200) return "text";
      if (typeof s.pattern === "string") return "text";
      return PROMPT_NAME.test(name) || (typeof s.maxLength === "number" && s.maxLength >= 200)
        ? "textarea"
        : "text";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

function titleCase(name: string): string {
  return name
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

/** One field from one property of `Input`. */
function toField(
  name: string,
  raw: JsonSchema,
  required: boolean,
  components: Record<string, JsonSchema>,
  index: number,
): Field {
  const prop = resolveRef(raw, components);
  const isList = prop.type === "array" && isObject(prop.items);
  const item = isList ? resolveRef(prop.items as JsonSchema, components) : prop;
  // A list's own default ([]) says nothing about its items' kind; an item schema without a type is JSON.
  const kind =
    isList && item.type === undefined && !Array.isArray(item.enum)
      ? "json"
      : kindOf(item, name, isList ? undefined : prop.default);
  const accept = str(prop["x-cog-accept"]) ?? str(item["x-cog-accept"]) ?? str(prop.accept) ?? null;
  return {
    name,
    // An enum component's title is the bare input name: Title Case it like the other inputs.
    title: str(raw.title) ?? (raw.allOf || raw.$ref ? null : str(prop.title)) ?? titleCase(name),
    description:
      str(raw.description) ?? str(prop.description === "An enumeration." ? null : prop.description),
    kind,
    list: isList,
    required,
    nullable: prop.nullable === true,
    deprecated: prop.deprecated === true,
    default: prop.default === undefined ? undefined : (prop.default as Json),
    minimum: num(item.minimum),
    maximum: num(item.maximum),
    exclusiveMinimum: item.exclusiveMinimum === true,
    exclusiveMaximum: item.exclusiveMaximum === true,
    minLength: num(item.minLength),
    maxLength: num(item.maxLength),
    pattern: str(item.pattern),
    choices: Array.isArray(item.enum)
      ? item.enum.filter((v): v is string | number => typeof v === "string" || typeof v === "number")
      : null,
    accept,
    order: num(raw["x-order"]) ?? num(prop["x-order"]) ?? 1000 + index,
  };
}

/** Every input of an OpenAPI document (from `/openapi.json` or a /v1 version's `openapi_schema`). */
export function inputFields(openapi: unknown, component = "Input"): Field[] {
  const components = isObject(openapi) && isObject(openapi.components) ? openapi.components : {};
  const schemas = (isObject(components.schemas) ? components.schemas : {}) as Record<string, JsonSchema>;
  const input = schemas[component];
  if (!input || !isObject(input.properties)) return [];
  const required = new Set(Array.isArray(input.required) ? input.required : []);
  return Object.entries(input.properties as Record<string, JsonSchema>)
    .map(([name, prop], i) => toField(name, isObject(prop) ? prop : {}, required.has(name), schemas, i))
    .sort((a, b) => a.order - b.order);
}

/** How the model's output arrives and should be shown. */
export interface OutputShape {
  /** An iterator (chunks arrive one by one over the stream). */
  iterator: boolean;
  /** Chunks are pieces of one text (`ConcatenateIterator[str]`): show them joined, token by token. */
  concatenate: boolean;
  /** The (item) schema says file (`format: uri`). */
  file: boolean;
}

export function outputShape(openapi: unknown): OutputShape {
  const components = isObject(openapi) && isObject(openapi.components) ? openapi.components : {};
  const schemas = (isObject(components.schemas) ? components.schemas : {}) as Record<string, JsonSchema>;
  const out = schemas.Output ?? {};
  const iterator = out.type === "array" && out["x-cog-array-type"] === "iterator";
  const item =
    out.type === "array" && isObject(out.items) ? resolveRef(out.items as JsonSchema, schemas) : out;
  return {
    iterator,
    concatenate: iterator && out["x-cog-array-display"] === "concatenate",
    file: item.type === "string" && item.format === "uri",
  };
}

/** A human range text for number fields, e.g. "1 – 50", "≥ 0", "> 0". */
export function rangeText(f: Field): string | null {
  const lo = f.minimum === null ? null : `${f.exclusiveMinimum ? ">" : "≥"} ${f.minimum}`;
  const hi = f.maximum === null ? null : `${f.exclusiveMaximum ? "<" : "≤"} ${f.maximum}`;
  if (lo && hi && !f.exclusiveMinimum && !f.exclusiveMaximum) return `${f.minimum} – ${f.maximum}`;
  if (lo && hi) return `${lo}, ${hi}`;
  return lo ?? hi;
}
