/**
 * TEMPORARY stand-in for src/schema (validateInput, buildOpenApi, fileFields, secretFields) with the
 * agreed signatures, until the schema helper's module lands on main. Delete when it does.
 */
import type { JsonSchema, PredictorSchema } from "../schema/types.js";

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}
export type InputValidation =
  | { ok: true; value: Record<string, unknown>; dropped: string[] }
  | { ok: false; errors: ValidationIssue[] };

function inputSchema(schema: PredictorSchema, kind: "predict" | "train"): JsonSchema {
  return (kind === "train" ? schema.train?.input : schema.input) ?? { type: "object", properties: {} };
}

function props(schema: JsonSchema): Record<string, JsonSchema> {
  return (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
}

function typeOk(p: JsonSchema, v: unknown): boolean {
  switch (p.type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      return true;
  }
}

export function validateInput(
  schema: PredictorSchema,
  input: unknown,
  kind: "predict" | "train" = "predict",
): InputValidation {
  const s = inputSchema(schema, kind);
  const obj = (input ?? {}) as Record<string, unknown>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const errors: ValidationIssue[] = [];
  const value: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(props(s))) {
    const loc = ["body", "input", name];
    if (!(name in obj) || obj[name] === undefined) {
      if (required.has(name)) errors.push({ loc, msg: "Field required", type: "missing" });
      else value[name] = "default" in p ? p.default : null;
      continue;
    }
    const v = obj[name];
    if (v === null && !required.has(name)) {
      value[name] = null;
      continue;
    }
    if (!typeOk(p, v)) errors.push({ loc, msg: `Input should be a valid ${String(p.type)}`, type: `${String(p.type)}_type` });
    else value[name] = v;
  }
  if (errors.length > 0) return { ok: false, errors };
  const dropped = Object.keys(obj).filter((k) => !(k in props(s)));
  return { ok: true, value, dropped };
}

export function buildOpenApi(schema: PredictorSchema, opts: { kilnVersion: string }): Record<string, unknown> {
  return {
    openapi: "3.0.2",
    info: { title: "Cog", version: opts.kilnVersion },
    paths: {},
    components: { schemas: { Input: schema.input, Output: schema.output, ...schema.components } },
  };
}

function isFile(p: JsonSchema): boolean {
  return p.format === "uri" || ((p.items as JsonSchema | undefined)?.format === "uri" && p.type === "array");
}

export function fileFields(schema: PredictorSchema, kind: "predict" | "train" = "predict"): string[] {
  return Object.entries(props(inputSchema(schema, kind)))
    .filter(([, p]) => isFile(p))
    .map(([n]) => n);
}

export function secretFields(schema: PredictorSchema, kind: "predict" | "train" = "predict"): string[] {
  return Object.entries(props(inputSchema(schema, kind)))
    .filter(([, p]) => p["x-cog-secret"] === true || (p.items as JsonSchema | undefined)?.["x-cog-secret"] === true)
    .map(([n]) => n);
}
