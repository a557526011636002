/**
 * Big JSON values kept as the bytes a worker sent. A worker sends an output larger than
 * RAW_ATTACHMENT_MIN_BYTES as an attachment after its frame (protocol.ts); the server keeps those bytes
 * as they came off the pipe and splices them into responses, SSE events and webhook bodies, so a 100 MB
 * output is never parsed, re-serialized or copied on the server's event loop. Code that needs the value
 * itself (the /v1 text stream, the output cache) calls value(), which parses once.
 */
import { randomBytes } from "node:crypto";

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
    this.parsed ??= { value: JSON.parse(Buffer.concat(this.parts, this.bytes).toString("utf8")) };
    return this.parsed.value;
  }

  /** Inside stringifyJson a marker; anywhere else (plain JSON.stringify) the parsed value. */
  toJSON(): unknown {
    if (collecting === null) return this.value();
    collecting.push(this);
    return `\u0001kiln-raw-${NONCE}-${collecting.length - 1}\u0001`;
  }

  /** Whether the text contains `needle` (an ASCII string), also across part boundaries. */
  mentions(needle: string): boolean {
    const overlap = needle.length - 1;
    let tail: Buffer = Buffer.alloc(0);
    for (const part of this.parts) {
      if (part.includes(needle)) return true;
      if (overlap > 0 && tail.length > 0) {
        const seam = Buffer.concat([tail, part.subarray(0, overlap)]);
        if (seam.includes(needle)) return true;
      }
      tail = part.length >= overlap ? part.subarray(part.length - overlap) : Buffer.concat([tail, part]);
    }
    return false;
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
