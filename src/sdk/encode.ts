/**
 * Predictor return values -> protocol JSON. Files become {"$file": "/abs/path"} wherever they are: a
 * KilnFile anywhere, or a path string at a place the output schema declares as file().
 */
import { resolve } from "node:path";
import type { z } from "zod";
import { KIND_KEY } from "./kinds.js";
import { KilnFile, Secret } from "./values.js";
import { unwrap } from "./zod-schema.js";

type Def = { type: string; element?: z.ZodType; shape?: Record<string, z.ZodType> };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

export function encodeValue(value: unknown, schema: z.ZodType | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof KilnFile) return { $file: value.path };
  if (value instanceof Secret) return value.toJSON();
  const u = schema ? unwrap(schema) : undefined;
  if (typeof value === "string") {
    return u?.meta[KIND_KEY] === "file" ? { $file: resolve(value) } : value;
  }
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value !== "object") return value;
  if (value instanceof Uint8Array) {
    throw new Error("predict() returned binary data: write it to a file and return fileOutput(path)");
  }
  const def = u ? defOf(u.base) : undefined;
  if (Array.isArray(value)) {
    const item = def?.type === "array" ? def.element : undefined;
    return value.map((v: unknown) => encodeValue(v, item));
  }
  if (value instanceof Date) return value.toISOString();
  const shape =
    def?.type === "object" ? (u?.base as unknown as { shape: Record<string, z.ZodType> }).shape : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = encodeValue(v, shape?.[k]);
  }
  return out;
}
