/** The JSON Schema of cog.yaml, generated from the zod schema (editors use it to validate and complete). */
import { z } from "zod";
import { manifestSchema } from "./schema.js";

export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return { ...schema, title: "cog.yaml (kiln)" };
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
