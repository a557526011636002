/**
 * Value checks behind validateInput, one JSON Schema fragment at a time, with pydantic's messages and
 * error types so 422 bodies look like Cog's.
 */
import type { JsonSchema } from "./types.js";
import { isPlainObject, resolveSchema } from "./refs.js";
import { isExternalString, type ExternalString } from "./external-string.js";
import { isExternalArray, typeSamples } from "./external-array.js";

// src/client-gen reads these from here (resolveProperty is the one resolver, src/schema/refs.ts).
export { isPlainObject, resolveSchema as resolveProperty } from "./refs.js";
import type { ValidationIssue } from "./validate.js";

type Components = Record<string, JsonSchema>;
type Loc = (string | number)[];

function repr(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}

function oneOfText(values: unknown[]): string {
  const shown = values.map(repr);
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

// A data URI's media type and parameters come before its comma: this many characters are plenty.
const DATA_URI_HEAD = 4096;

function checkFileUri(value: string | ExternalString, loc: Loc, errors: ValidationIssue[]): void {
  if (typeof value !== "string") {
    // A big string: only a data URI is plausible, and its head tells.
    const head = value.head(DATA_URI_HEAD);
    if (head.startsWith("data:") && head.includes(",")) return;
    if (!head.startsWith("data:")) value = value.text();
    else return void errors.push({ loc, msg: "Input should be a valid data URI", type: "url_parsing" });
  }
  if (value.startsWith("data:")) {
    if (!value.includes(","))
      errors.push({ loc, msg: "Input should be a valid data URI", type: "url_parsing" });
    return;
  }
  // URL.canParse allocates nothing: this runs for every file input of every request.
  if (!URL.canParse(value)) {
    errors.push({
      loc,
      msg: "Input should be a valid URL, relative URL without a base",
      type: "url_parsing",
    });
    return;
  }
  const lower = value.slice(0, 8).toLowerCase();
  if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
    errors.push({ loc, msg: "URL scheme should be 'http', 'https' or 'data'", type: "url_scheme" });
  }
}

const patterns = new Map<string, RegExp | null>();

function compiledPattern(pattern: string): RegExp | null {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, "u");
    } catch {
      re = null; // a pattern JS cannot compile is left to the worker
    }
    if (patterns.size < 1000) patterns.set(pattern, re);
  }
  return re;
}

function codePointLength(value: string): number {
  let n = value.length;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point in two UTF-16 units.
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function checkString(
  s: JsonSchema,
  value: string | ExternalString,
  loc: Loc,
  errors: ValidationIssue[],
): void {
  if (s.format === "uri") return checkFileUri(value, loc, errors);
  // Length in code points, as Python's len() counts them.
  const needsLength = typeof s.minLength === "number" || typeof s.maxLength === "number";
  const length = !needsLength ? 0 : typeof value === "string" ? codePointLength(value) : value.codePoints;
  if (typeof s.minLength === "number" && length < s.minLength) {
    errors.push({
      loc,
      msg: `String should have at least ${plural(s.minLength, "character")}`,
      type: "string_too_short",
    });
  }
  if (typeof s.maxLength === "number" && length > s.maxLength) {
    errors.push({
      loc,
      msg: `String should have at most ${plural(s.maxLength, "character")}`,
      type: "string_too_long",
    });
  }
  if (typeof s.pattern === "string") {
    const re = compiledPattern(s.pattern);
    if (re && !re.test(typeof value === "string" ? value : value.text())) {
      errors.push({
        loc,
        msg: `String should match pattern '${s.pattern}'`,
        type: "string_pattern_mismatch",
      });
    }
  }
}

function checkNumber(s: JsonSchema, value: number, loc: Loc, errors: ValidationIssue[]): void {
  const exMin = s.exclusiveMinimum;
  const exMax = s.exclusiveMaximum;
  if (typeof s.minimum === "number") {
    if (exMin === true ? value <= s.minimum : value < s.minimum) {
      errors.push(
        exMin === true
          ? { loc, msg: `Input should be greater than ${s.minimum}`, type: "greater_than" }
          : { loc, msg: `Input should be greater than or equal to ${s.minimum}`, type: "greater_than_equal" },
      );
    }
  } else if (typeof exMin === "number" && value <= exMin) {
    errors.push({ loc, msg: `Input should be greater than ${exMin}`, type: "greater_than" });
  }
  if (typeof s.maximum === "number") {
    if (exMax === true ? value >= s.maximum : value > s.maximum) {
      errors.push(
        exMax === true
          ? { loc, msg: `Input should be less than ${s.maximum}`, type: "less_than" }
          : { loc, msg: `Input should be less than or equal to ${s.maximum}`, type: "less_than_equal" },
      );
    }
  } else if (typeof exMax === "number" && value >= exMax) {
    errors.push({ loc, msg: `Input should be less than ${exMax}`, type: "less_than" });
  }
}

/** Validates one value; pushes issues; returns the (possibly defaulted inside arrays: never) value. */
export function checkValue(
  raw: JsonSchema,
  value: unknown,
  loc: Loc,
  components: Components,
  errors: ValidationIssue[],
): void {
  const s = resolveSchema(raw, components);
  if (value === null) {
    if (s.nullable !== true) errors.push(typeError(s, loc));
    return;
  }
  if (Array.isArray(s.enum)) {
    if (!s.enum.some((e) => e === value)) {
      errors.push({ loc, msg: `Input should be ${oneOfText(s.enum)}`, type: "enum" });
    }
    return;
  }
  if (Array.isArray(s.anyOf)) return checkUnion(s.anyOf as JsonSchema[], value, loc, components, errors);
  switch (s.type) {
    case "string":
      if (typeof value !== "string" && !isExternalString(value)) return void errors.push(typeError(s, loc));
      return checkString(s, value, loc, errors);
    case "integer":
      if (typeof value !== "number") return void errors.push(typeError(s, loc));
      if (!Number.isInteger(value)) {
        return void errors.push({
          loc,
          msg: "Input should be a valid integer, got a number with a fractional part",
          type: "int_from_float",
        });
      }
      return checkNumber(s, value, loc, errors);
    case "number":
      if (typeof value !== "number") return void errors.push(typeError(s, loc));
      return checkNumber(s, value, loc, errors);
    case "boolean":
      if (typeof value !== "boolean") errors.push(typeError(s, loc));
      return;
    case "array": {
      const external = isExternalArray(value) ? value : null;
      if (!external && !Array.isArray(value)) return void errors.push(typeError(s, loc));
      const list = value as { length: number };
      if (typeof s.minItems === "number" && list.length < s.minItems) {
        errors.push({
          loc,
          msg: `List should have at least ${plural(s.minItems, "item")} after validation, not ${list.length}`,
          type: "too_short",
        });
      }
      if (typeof s.maxItems === "number" && list.length > s.maxItems) {
        errors.push({
          loc,
          msg: `List should have at most ${plural(s.maxItems, "item")} after validation, not ${list.length}`,
          type: "too_long",
        });
      }
      if (isPlainObject(s.items)) {
        const items = s.items;
        // A big array kept as request bytes: one stand-in per kind of item when types are all that count.
        const samples = external && typeSamples(external, resolveSchema(items, components));
        if (samples)
          for (const [i, item] of samples) checkValue(items, item, [...loc, i], components, errors);
        else
          (external ? external.items() : (value as unknown[])).forEach((item, i) =>
            checkValue(items, item, [...loc, i], components, errors),
          );
      }
      return;
    }
    case "object":
      if (!isPlainObject(value)) errors.push(typeError(s, loc));
      return;
    default:
      return; // no type: Any
  }
}

/** A union input (Python `str | float`): valid when one member accepts the value; else one issue per member. */
function checkUnion(
  members: JsonSchema[],
  value: unknown,
  loc: Loc,
  components: Components,
  errors: ValidationIssue[],
): void {
  const perMember: ValidationIssue[][] = [];
  for (const member of members) {
    const found: ValidationIssue[] = [];
    checkValue(member, value, loc, components, found);
    if (found.length === 0) return;
    perMember.push(found);
  }
  // pydantic names each member in the loc (`str`, `float`); kiln keeps the field's loc and says which member.
  members.forEach((member, i) => {
    for (const issue of perMember[i] ?? []) {
      errors.push({ ...issue, msg: `${issue.msg} (union member ${memberName(member)})` });
    }
  });
}

function memberName(s: JsonSchema): string {
  if (s.type === "array") return "list";
  if (s.type === "object") return "dict";
  const names: Record<string, string> = { string: "str", integer: "int", number: "float", boolean: "bool" };
  return typeof s.type === "string" ? (names[s.type] ?? s.type) : "Any";
}

function typeError(s: JsonSchema, loc: Loc): ValidationIssue {
  if (s.format === "uri") return { loc, msg: "URL input should be a string or URL", type: "url_type" };
  if (Array.isArray(s.enum)) return { loc, msg: `Input should be ${oneOfText(s.enum)}`, type: "enum" };
  switch (s.type) {
    case "string":
      return { loc, msg: "Input should be a valid string", type: "string_type" };
    case "integer":
      return { loc, msg: "Input should be a valid integer", type: "int_type" };
    case "number":
      return { loc, msg: "Input should be a valid number", type: "float_type" };
    case "boolean":
      return { loc, msg: "Input should be a valid boolean", type: "bool_type" };
    case "array":
      return { loc, msg: "Input should be a valid list", type: "list_type" };
    case "object":
      return { loc, msg: "Input should be a valid dictionary", type: "dict_type" };
    default:
      return { loc, msg: "Input should not be null", type: "none_forbidden" };
  }
}
