/**
 * The CLI's pre-flight check of one input value against its field: type, range, length, pattern and
 * choices, phrased for a person at a terminal (the field's expectation and what was given). The
 * server validates again; this only exists so mistakes surface before a container starts.
 */
import { describeField, type FieldSpec, type SchemaView } from "./view.js";

/** A message when `value` does not fit `spec`, else undefined. */
export function checkValue(spec: FieldSpec, value: unknown): string | undefined {
  if (value === null) {
    return spec.nullable || (spec.hasDefault && spec.default === null)
      ? undefined
      : `expected ${describeField(spec)}, got null`;
  }
  const got = `got ${short(value)}`;
  const expected = `expected ${describeField(spec)}, ${got}`;
  switch (spec.kind) {
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return expected;
      break;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return expected;
      break;
    case "boolean":
      if (typeof value !== "boolean") return expected;
      break;
    case "string":
    case "secret":
    case "file":
      if (typeof value !== "string") return expected;
      break;
    case "object":
      if (typeof value !== "object" || Array.isArray(value)) return expected;
      break;
    case "array": {
      if (!Array.isArray(value)) return expected;
      if (!spec.items) return undefined;
      for (const [i, item] of value.entries()) {
        const problem = checkValue(spec.items, item);
        if (problem) return `item ${i}: ${problem}`;
      }
      return undefined;
    }
    case "any":
      return undefined;
  }
  if (spec.choices && spec.choices.length > 0 && !spec.choices.some((c) => c === value)) {
    return `${got}, expected ${describeField(spec)}`;
  }
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum)
      return `${value} is too small: expected ${describeField(spec)}`;
    if (spec.maximum !== undefined && value > spec.maximum)
      return `${value} is too large: expected ${describeField(spec)}`;
  }
  if (typeof value === "string" && spec.kind !== "file") {
    if (spec.minLength !== undefined && [...value].length < spec.minLength)
      return `too short (${[...value].length} characters): expected ${describeField(spec)}`;
    if (spec.maxLength !== undefined && [...value].length > spec.maxLength)
      return `too long (${[...value].length} characters): expected ${describeField(spec)}`;
    if (spec.pattern !== undefined && !safeTest(spec.pattern, value))
      return `${got}, expected ${describeField(spec)}`;
  }
  return undefined;
}

/** Required fields (no default) that were not given. */
export function requiredMissing(view: SchemaView, given: Set<string>): FieldSpec[] {
  return view.fields.filter((f) => view.required.has(f.name) && !f.hasDefault && !given.has(f.name));
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return true; // a pattern JavaScript cannot compile is left to the server
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
