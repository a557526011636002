/**
 * A model's OpenAPI document -> ClientModel: the language-neutral description both generators (TS and
 * Python) and the schema diff work from. Inputs in x-order with their types, limits, defaults and docs;
 * the output type and whether it streams; and the Input/Output schemas with every `$ref` inlined, which
 * the generated code embeds to check inputs exactly as the server does (src/schema/checks.ts).
 */
import { isPlainObject, resolveProperty } from "../schema/checks.js";
import { canonicalize } from "../schema/fragments.js";
import type { JsonSchema } from "../schema/types.js";

export type Literal = string | number | boolean;

export type ScalarKind = "string" | "integer" | "number" | "boolean" | "file" | "secret" | "any";

export type TypeNode =
  | { kind: ScalarKind }
  | { kind: "enum"; values: Literal[] }
  | { kind: "array"; items: TypeNode }
  /** `fields` undefined: a free-form dictionary. */
  | { kind: "object"; fields: FieldNode[] | undefined }
  | { kind: "union"; members: TypeNode[] };

/**
 * How a language spells the types without parameters: a secret is a string to the caller, and a file
 * is one type going in (a path, URL or bytes) and another coming out.
 */
export interface ScalarNames {
  string: string;
  integer: string;
  number: string;
  boolean: string;
  any: string;
  fileInput: string;
  fileOutput: string;
}

export function scalarName(kind: ScalarKind, side: "input" | "output", names: ScalarNames): string {
  if (kind === "file") return side === "input" ? names.fileInput : names.fileOutput;
  return names[kind === "secret" ? "string" : kind];
}

export interface Limits {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

export interface FieldNode {
  name: string;
  type: TypeNode;
  /** The server answers 422 when it is missing (required and without a default). */
  required: boolean;
  nullable: boolean;
  /** Present when the schema has a default (the value may be null). */
  default?: { value: unknown };
  description?: string;
  deprecated: boolean;
  limits: Limits;
  /** Set for choices inputs: the enum component's name (e.g. "scheduler"). */
  enumName?: string;
}

export type StreamKind = "none" | "iterator" | "concatenate";

export interface ClientModel {
  /** `owner/name` the predictions are reported under. */
  model: string;
  /** The version every prediction is pinned to (an image digest or a /v1 version id); null if unknown. */
  version: string | null;
  /** Where the schema came from, as the user named it (shown in the header and the regenerate hint). */
  source: string;
  /** The API base URL the client talks to unless told otherwise (e.g. the server it was generated from). */
  baseUrl: string | null;
  inputs: FieldNode[];
  output: { type: TypeNode; nullable: boolean; stream: StreamKind };
  /** Self-contained (no $ref) Input and Output schemas, canonical key order: embedded for checks/diffs. */
  schema: { input: JsonSchema; output: JsonSchema };
}

export interface ModelFacts {
  model: string;
  version: string | null;
  source: string;
  baseUrl: string | null;
}

type Components = Record<string, JsonSchema>;

export class SchemaShapeError extends Error {}

/** Builds the ClientModel; throws SchemaShapeError when the document has no usable Input component. */
export function clientModel(doc: unknown, facts: ModelFacts): ClientModel {
  const schemas = isPlainObject(doc) && isPlainObject(doc.components) ? doc.components.schemas : undefined;
  if (!isPlainObject(schemas) || !isPlainObject(schemas.Input)) {
    throw new SchemaShapeError("the OpenAPI document has no components.schemas.Input");
  }
  const components = schemas as Components;
  const input = inlineRefs(schemas.Input, components, 0);
  const output = inlineRefs(isPlainObject(schemas.Output) ? schemas.Output : {}, components, 0);
  const stream: StreamKind =
    output.type === "array" && output["x-cog-array-type"] === "iterator"
      ? output["x-cog-array-display"] === "concatenate"
        ? "concatenate"
        : "iterator"
      : "none";
  const outType =
    stream === "none" ? typeOf(output) : typeOf(isPlainObject(output.items) ? output.items : {});
  return {
    ...facts,
    inputs: fieldsOf(schemas.Input, components),
    output: { type: outType, nullable: output.nullable === true, stream },
    schema: { input: canonicalize(input), output: canonicalize(output) },
  };
}

function fieldsOf(object: JsonSchema, components: Components): FieldNode[] {
  const props = isPlainObject(object.properties) ? (object.properties as Record<string, JsonSchema>) : {};
  const required = new Set(Array.isArray(object.required) ? (object.required as string[]) : []);
  const entries = Object.entries(props).filter(([, p]) => isPlainObject(p));
  // x-order first (stable for ties), then declaration order for properties without one.
  const order = (p: JsonSchema): number =>
    typeof p["x-order"] === "number" ? p["x-order"] : Number.MAX_SAFE_INTEGER;
  entries.sort(([, a], [, b]) => order(a) - order(b));
  return entries.map(([name, raw]) => fieldOf(name, raw, required.has(name), components));
}

function fieldOf(name: string, raw: JsonSchema, inRequired: boolean, components: Components): FieldNode {
  const enumName = enumComponentName(raw);
  const p = unwrapNullable(resolveProperty(raw, components), components);
  const field: FieldNode = {
    name,
    type: typeOf(p.schema, components),
    required: inRequired && !("default" in p.schema),
    nullable: p.nullable,
    deprecated: p.schema.deprecated === true,
    limits: limitsOf(p.schema),
  };
  if ("default" in p.schema) field.default = { value: p.schema.default };
  // An enum component's own description is Cog's boilerplate "An enumeration.": only the input's counts.
  const description = enumName !== undefined ? raw.description : p.schema.description;
  if (typeof description === "string") field.description = description;
  if (enumName !== undefined) field.enumName = enumName;
  return field;
}

function enumComponentName(raw: JsonSchema): string | undefined {
  const allOf = raw.allOf;
  const target = Array.isArray(allOf) && isPlainObject(allOf[0]) ? allOf[0].$ref : raw.$ref;
  return typeof target === "string" ? target.replace(/^#\/components\/schemas\//, "") : undefined;
}

/** `nullable: true`, or newer Cog's `anyOf: [T, {type: "null"}]`. */
function unwrapNullable(s: JsonSchema, components: Components): { schema: JsonSchema; nullable: boolean } {
  if (Array.isArray(s.anyOf)) {
    const members = s.anyOf.filter(isPlainObject);
    const nonNull = members.filter((m) => m.type !== "null");
    if (nonNull.length === 1 && nonNull.length < members.length) {
      const { anyOf: _a, ...own } = s;
      return { schema: { ...resolveProperty(nonNull[0] as JsonSchema, components), ...own }, nullable: true };
    }
  }
  return { schema: s, nullable: s.nullable === true };
}

function typeOf(raw: JsonSchema, components: Components = {}): TypeNode {
  const s = resolveProperty(raw, components);
  if (Array.isArray(s.enum)) {
    return {
      kind: "enum",
      values: s.enum.filter((v): v is Literal => ["string", "number", "boolean"].includes(typeof v)),
    };
  }
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const list = ((s.anyOf ?? s.oneOf) as unknown[]).filter(isPlainObject);
    const members = list.filter((m) => m.type !== "null").map((m) => typeOf(m, components));
    if (members.length === 1) return members[0] as TypeNode;
    return members.length === 0 ? { kind: "any" } : { kind: "union", members };
  }
  switch (s.type) {
    case "string":
      if (s.format === "uri") return { kind: "file" };
      if (s["x-cog-secret"] === true || s.format === "password") return { kind: "secret" };
      return { kind: "string" };
    case "integer":
    case "number":
    case "boolean":
      return { kind: s.type };
    case "array":
      return { kind: "array", items: typeOf(isPlainObject(s.items) ? s.items : {}, components) };
    case "object":
      return {
        kind: "object",
        fields: isPlainObject(s.properties) ? fieldsOf(s, components) : undefined,
      };
    default:
      return { kind: "any" };
  }
}

function limitsOf(s: JsonSchema): Limits {
  const limits: Limits = {};
  for (const key of ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"] as const) {
    const v = s[key];
    if (typeof v === "number" && Number.isFinite(v)) limits[key] = v;
  }
  if (s.exclusiveMinimum === true) limits.exclusiveMinimum = true;
  if (s.exclusiveMaximum === true) limits.exclusiveMaximum = true;
  // OpenAPI 3.1 / JSON Schema 2020 numeric form: exclusiveMinimum: 0.
  if (typeof s.exclusiveMinimum === "number" && limits.minimum === undefined) {
    limits.minimum = s.exclusiveMinimum;
    limits.exclusiveMinimum = true;
  }
  if (typeof s.exclusiveMaximum === "number" && limits.maximum === undefined) {
    limits.maximum = s.exclusiveMaximum;
    limits.exclusiveMaximum = true;
  }
  if (typeof s.pattern === "string") limits.pattern = s.pattern;
  return limits;
}

/** Replaces `$ref` / `allOf: [{$ref}]` by the component (own keys win), everywhere below `schema`. */
function inlineRefs(schema: JsonSchema, components: Components, depth: number): JsonSchema {
  if (depth > 32) return {}; // a recursive schema: stop, the rest is unchecked (as "any")
  const s = resolveProperty(schema, components);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key === "properties" && isPlainObject(value)) {
      const props: JsonSchema = {};
      for (const [name, prop] of Object.entries(value))
        props[name] = isPlainObject(prop) ? inlineRefs(prop, components, depth + 1) : prop;
      out[key] = props;
    } else if ((key === "items" || key === "additionalProperties") && isPlainObject(value)) {
      out[key] = inlineRefs(value, components, depth + 1);
    } else if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value)) {
      out[key] = value.map((v: unknown) => (isPlainObject(v) ? inlineRefs(v, components, depth + 1) : v));
    } else {
      out[key] = value;
    }
  }
  return out;
}
