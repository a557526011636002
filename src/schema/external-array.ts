/**
 * A list input held outside the JS heap: the server keeps a big request array of numbers, booleans and
 * null as the bytes it arrived in (src/runtime/http/json-scan.ts checks its grammar while reading) and
 * validates it by what the scan counted, so a 100 MB array of numbers is neither parsed nor serialized
 * again on the server's event loop; the worker parses it. The key is a symbol, as for ExternalString.
 */
import type { JsonSchema } from "./types.js";

export const EXTERNAL_ARRAY: unique symbol = Symbol.for("kiln.external-array");

/** How many items of one kind a scanned array holds, and the index of the first (-1: none). */
export interface ItemKind {
  count: number;
  first: number;
}

export interface ExternalArray {
  readonly [EXTERNAL_ARRAY]: true;
  readonly length: number;
  /** Numbers written without a fraction or an exponent (`-12`). */
  readonly integers: ItemKind;
  /** Numbers with a fraction or an exponent (`0.5`, `1e3`). */
  readonly fractions: ItemKind;
  readonly booleans: ItemKind;
  readonly nulls: ItemKind;
  /** The items themselves (costly: parses the whole array; only for checks that need each value). */
  items(): unknown[];
}

export function isExternalArray(value: unknown): value is ExternalArray {
  return typeof value === "object" && value !== null && EXTERNAL_ARRAY in value;
}

// Schema keywords whose verdict depends on an item's value, not only on its JSON type.
const VALUE_KEYWORDS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "$ref",
];

/**
 * One stand-in item per kind present, with the index of the first item of that kind, when checking
 * those is the same as checking every item (the item schema (resolved) looks at types only); else null,
 * and the caller checks the parsed items. An integer schema with fractions present needs the values:
 * `1.0` and `1e2` are integers to JSON.parse.
 */
export function typeSamples(
  array: ExternalArray,
  items: JsonSchema,
): [index: number, item: unknown][] | null {
  if (VALUE_KEYWORDS.some((k) => k in items)) return null;
  if (items.type === "integer" && array.fractions.count > 0) return null;
  const samples: [number, unknown][] = [];
  const add = (kind: ItemKind, sample: unknown): void => {
    if (kind.count > 0) samples.push([kind.first, sample]);
  };
  add(array.integers, 0);
  add(array.fractions, 0.5);
  add(array.booleans, true);
  add(array.nulls, null);
  return samples.sort((a, b) => a[0] - b[0]);
}
