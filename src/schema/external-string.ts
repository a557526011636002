/**
 * A string input held outside the JS heap: the server keeps a big request string as the bytes it
 * arrived in (src/runtime/raw-json.ts) and validates it by what it learnt while reading them, so a
 * 100 MB string is never turned into a JS string on the server's event loop. The key is a symbol: no
 * JSON document can produce an object that passes for one.
 */
export const EXTERNAL_STRING: unique symbol = Symbol.for("kiln.external-string");

export interface ExternalString {
  readonly [EXTERNAL_STRING]: true;
  /** Length in code points (as Python's len() counts them). */
  readonly codePoints: number;
  /** The first `n` characters (for prefix checks such as `data:`), decoded. */
  head(n: number): string;
  /** The whole string (costly: only for checks that need it, such as a pattern). */
  text(): string;
}

export function isExternalString(value: unknown): value is ExternalString {
  return typeof value === "object" && value !== null && EXTERNAL_STRING in value;
}
