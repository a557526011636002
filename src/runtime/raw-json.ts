/**
 * Big JSON values kept as the bytes a worker sent. A worker sends an output larger than
 * RAW_ATTACHMENT_MIN_BYTES as an attachment after its frame (protocol.ts); the server keeps those bytes
 * as they came off the pipe and splices them into responses, SSE events and webhook bodies, so a 100 MB
 * output is never parsed, re-serialized or copied on the server's event loop. Code that needs the value
 * itself (the /v1 text stream, the output cache) calls value(), which parses once.
 */
import { isAscii } from "node:buffer";
import { randomBytes } from "node:crypto";
import { decodeScalarArray } from "./scalar-array-decode.js";
import { EXTERNAL_STRING, type ExternalString } from "../schema/external-string.js";
import { EXTERNAL_ARRAY, type ExternalArray, type ItemKind } from "../schema/external-array.js";

// How much text mentions() searches before it lets the event loop run.
const SEARCH_SLICE_BYTES = 4 * 1024 * 1024;

/** Outputs (and iterator chunks) at least this large travel as attachments. */
export const RAW_ATTACHMENT_MIN_BYTES = 256 * 1024;

/** A piece of serialized JSON: text, or bytes that are valid UTF-8 JSON already. */
export type JsonChunk = string | Buffer;

// Set while stringifyJson runs: RawJson.toJSON() leaves a marker there instead of its value.
let collecting: RawJson[] | null = null;
// Random per process: no string a client or model sends can forge a marker.
const NONCE = randomBytes(9).toString("hex");
const MARK = `"\\u0001kiln-raw-${NONCE}-`;

export class RawJson {
  private parsed: { value: unknown } | null = null;

  /** `parts`: UTF-8 JSON text of one value, in order; `bytes`: their total length; `value` if known. */
  constructor(
    readonly parts: readonly Buffer[],
    readonly bytes: number,
    ...known: [value: unknown] | []
  ) {
    if (known.length === 1) this.parsed = { value: known[0] };
  }

  /** The value itself (parsed on first use, then kept). */
  value(): unknown {
    this.parsed ??= { value: decodeJson(this.parts, this.bytes) };
    return this.parsed.value;
  }

  /** Inside stringifyJson a marker; anywhere else (plain JSON.stringify) the parsed value. */
  toJSON(): unknown {
    if (collecting === null) return this.value();
    collecting.push(this);
    return `\u0001kiln-raw-${NONCE}-${collecting.length - 1}\u0001`;
  }

  /**
   * Whether the text contains `needle` (an ASCII string), also across part boundaries. Searches a few
   * MB at a time and lets the event loop run in between: a 100 MB value never stops it for the search.
   */
  async mentions(needle: string): Promise<boolean> {
    const overlap = needle.length - 1;
    let tail: Buffer = Buffer.alloc(0);
    let searched = 0;
    for (const part of this.parts) {
      if (part.includes(needle)) return true;
      if (overlap > 0 && tail.length > 0) {
        const seam = Buffer.concat([tail, part.subarray(0, overlap)]);
        if (seam.includes(needle)) return true;
      }
      tail = part.length >= overlap ? part.subarray(part.length - overlap) : Buffer.concat([tail, part]);
      searched += part.length;
      if (searched >= SEARCH_SLICE_BYTES) {
        searched = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return false;
  }
}

/**
 * The value of UTF-8 JSON text in pieces. A string literal without escapes (the common big value) is
 * decoded as it stands, which is several times faster than JSON.parse of the same text; an array of
 * numbers, booleans and null (a big list input) is decoded without boxing each number
 * (scalar-array-decode.ts).
 */
export function decodeJson(parts: readonly Buffer[], bytes: number): unknown {
  if (parts.length > 1) {
    const text = asciiLiteral(parts, bytes);
    if (text !== null) return text;
  }
  const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
  if (bytes >= 2 && whole[0] === 0x22 && whole[bytes - 1] === 0x22 && whole.indexOf(0x5c) < 0) {
    return whole.toString("utf8", 1, bytes - 1);
  }
  if (whole[0] === 0x5b) {
    const list = decodeScalarArray(whole);
    if (list) return list;
  }
  return JSON.parse(whole.toString("utf8"));
}

/**
 * A string literal in pieces that is ASCII without escapes, decoded piece by piece (latin1, the
 * cheapest decoding) into a string V8 joins lazily: no concatenated copy of the whole literal first.
 * Null for anything else.
 */
function asciiLiteral(parts: readonly Buffer[], bytes: number): string | null {
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (bytes < 2 || first[0] !== 0x22 || last[last.length - 1] !== 0x22) return null;
  for (const part of parts) if (part.indexOf(0x5c) >= 0 || !isAscii(part)) return null;
  let text = "";
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!;
    text += part.toString("latin1", k === 0 ? 1 : 0, k === parts.length - 1 ? part.length - 1 : part.length);
  }
  return text;
}

/**
 * A big string of a request body, kept as the JSON string literal (quotes included) it arrived as:
 * the request's own buffers, already checked to be valid JSON and UTF-8 while they were read. It
 * validates as a string (ExternalString), travels to the worker as an attachment and back out in
 * answers as the same bytes.
 */
export class JsonStringBytes extends RawJson implements ExternalString {
  readonly [EXTERNAL_STRING] = true as const;

  /** `escaped`: the literal holds a backslash escape (else its inner bytes are the string's UTF-8). */
  constructor(
    parts: readonly Buffer[],
    bytes: number,
    readonly codePoints: number,
    readonly escaped: boolean,
  ) {
    super(parts, bytes);
  }

  head(n: number): string {
    if (this.escaped) return this.text().slice(0, n);
    const want = Math.min(this.bytes - 1, 1 + 4 * n); // 4 bytes at most per character
    const pieces: Buffer[] = [];
    let got = 0;
    for (const part of this.parts) {
      pieces.push(part);
      got += part.length;
      if (got >= want) break;
    }
    const start = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    return start.toString("utf8", 1, want).slice(0, n);
  }

  text(): string {
    return this.value() as string;
  }

  /** The string's UTF-8 bytes in pieces (no quotes); meaningful for a literal without escapes. */
  *contentPieces(): Generator<Buffer> {
    let off = 0;
    for (const part of this.parts) {
      const from = Math.max(1, off) - off;
      const to = Math.min(this.bytes - 1, off + part.length) - off;
      if (to > from) yield part.subarray(from, to);
      off += part.length;
    }
  }
}

/**
 * A big array of a request body made only of numbers, booleans and null, kept as the JSON text
 * (brackets included) it arrived as: the request's own buffers, its grammar checked while they were
 * read. It validates as a list (ExternalArray) by the kinds of items the scan counted, and travels to
 * the worker as an attachment, which parses it there, off the server's event loop.
 */
export class JsonArrayBytes extends RawJson implements ExternalArray {
  readonly [EXTERNAL_ARRAY] = true as const;

  constructor(
    parts: readonly Buffer[],
    bytes: number,
    readonly length: number,
    readonly integers: ItemKind,
    readonly fractions: ItemKind,
    readonly booleans: ItemKind,
    readonly nulls: ItemKind,
  ) {
    super(parts, bytes);
  }

  items(): unknown[] {
    return this.value() as unknown[];
  }
}

/**
 * JSON.stringify that keeps RawJson values as their bytes: a plain string when the value holds none
 * (the common, small case costs one JSON.stringify), else the serialized pieces in order.
 */
export function stringifyJson(value: unknown): string | JsonChunk[] {
  const found: RawJson[] = [];
  collecting = found;
  let text: string;
  try {
    text = JSON.stringify(value) ?? "null";
  } finally {
    collecting = null;
  }
  if (found.length === 0) return text;
  const out: JsonChunk[] = [];
  let at = 0;
  for (;;) {
    const mark = text.indexOf(MARK, at);
    if (mark < 0) break;
    const end = text.indexOf('\\u0001"', mark + MARK.length);
    const raw = found[Number(text.slice(mark + MARK.length, end))]!;
    if (mark > at) out.push(text.slice(at, mark));
    out.push(...raw.parts);
    at = end + '\\u0001"'.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** Bytes of serialized JSON as stringifyJson returned it. */
export function jsonByteLength(json: string | readonly JsonChunk[]): number {
  if (typeof json === "string") return Buffer.byteLength(json);
  let n = 0;
  for (const c of json) n += typeof c === "string" ? Buffer.byteLength(c) : c.length;
  return n;
}

/** The value itself, parsed if it is a RawJson (for code that must look inside). */
export function materialize(value: unknown): unknown {
  return value instanceof RawJson ? value.value() : value;
}
