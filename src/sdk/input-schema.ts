/**
 * A predictor's zod inputs -> the `Input` component (+ one enum component per choices input).
 * Rules (shared with the Python worker): x-order = declaration order; title = Title Case of the name
 * unless meta({title}); a default, .optional() or .nullable() makes the input optional; an optional input without a default is
 * `nullable`; choices become `{allOf:[{$ref}]}` pointing at a component named after the input.
 */
import type { z } from "zod";
import { titleCase } from "../schema/fragments.js";
import type { JsonSchema } from "../schema/types.js";
import { KIND_KEY } from "./kinds.js";
import { PredictorSchemaError, enumValues, typeFragment, unwrap } from "./zod-schema.js";

export interface InputSchemaResult {
  input: JsonSchema;
  components: Record<string, JsonSchema>;
  /** Inputs the worker passes as `undefined` (not null) when absent, so zod applies its own default. */
  undefinedWhenNull: string[];
  /** Secret inputs with a default: the schema shows a placeholder, the worker applies the real one. */
  secretDefaults: string[];
}

export const SECRET_PLACEHOLDER = "**********";

function jsonDefault(value: unknown, where: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    throw new PredictorSchemaError(`${where}: the default value cannot be written as JSON`);
  }
}

export function inputSchema(shape: Record<string, z.ZodType>): InputSchemaResult {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const components: Record<string, JsonSchema> = {};
  const undefinedWhenNull: string[] = [];
  const secretDefaults: string[] = [];
  Object.entries(shape).forEach(([name, field], order) => {
    const where = `input '${name}'`;
    const u = unwrap(field);
    const isSecret = u.meta[KIND_KEY] === "secret";
    const prop: JsonSchema = {};
    const values = enumValues(u.base);
    if (values) {
      const fragment = typeFragment(field, where);
      components[name] = { title: name, description: "An enumeration.", enum: values, type: fragment.type };
      prop.allOf = [{ $ref: `#/components/schemas/${name}` }];
    } else {
      Object.assign(prop, typeFragment(field, where), {
        title: typeof u.meta.title === "string" ? u.meta.title : titleCase(name),
      });
    }
    if (typeof u.meta.description === "string") prop.description = u.meta.description;
    // A secret's default stays in the worker (zod applies it): the schema is public, the default is not.
    if (u.hasDefault && !isSecret) prop.default = jsonDefault(u.defaultValue, where);
    if (u.hasDefault && isSecret) {
      prop.default = SECRET_PLACEHOLDER;
      secretDefaults.push(name);
    }
    if (u.meta.deprecated === true) prop.deprecated = true;
    const optional = u.optional || u.hasDefault;
    if (u.nullable || (optional && !u.hasDefault)) prop.nullable = true;
    // Nullable inputs are optional too (a missing one arrives as null), as Optional[...] is in Python.
    if (!optional && !u.nullable) required.push(name);
    if (!u.nullable && (u.optional || u.hasDefault)) undefinedWhenNull.push(name);
    prop["x-order"] = order;
    properties[name] = prop;
  });
  const input: JsonSchema = { title: "Input", type: "object", properties };
  if (required.length > 0) input.required = required;
  return { input, components, undefinedWhenNull, secretDefaults };
}
