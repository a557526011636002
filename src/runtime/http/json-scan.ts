/**
 * Reads a JSON request body as it arrives, one chunk at a time, so that no step on the event loop is
 * proportional to a big body in one go. String literals of BIG_STRING_BYTES or more are kept as the
 * request's own buffers (JsonStringBytes) and checked while they stream past: their closing quote is
 * found with indexOf (native speed) and a backslash-run check, their bytes are checked for valid UTF-8
 * (buffer.isUtf8), control characters (four bytes at a time) and escapes (only at backslashes), and
 * their length in code points is counted. What is left (the skeleton: everything else, each big string
 * replaced by a short placeholder) is small and goes to JSON.parse, which reports the rest of JSON's
 * grammar; the placeholders are then swapped for the kept strings.
 *
 * Arrays of BIG_STRING_BYTES or more whose items are all numbers, booleans or null (a 100 MB list of
 * floats) are kept the same way (JsonArrayBytes), their grammar checked as they stream past
 * (scalar-array.ts): JSON.parse would otherwise see all of them in one go on the event loop. Only
 * arrays inside the body's top-level value are kept (the envelope itself is always parsed).
 *
 * Each byte is looked at a bounded number of times, whatever the chunking: the test suite counts
 * `bytesScanned` to hold that.
 */
import { isAscii, isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import { JsonArrayBytes, JsonStringBytes } from "../raw-json.js";
import { CLOSED, MORE, ScalarArrayCheck } from "./scalar-array.js";

/** String literals at least this long (bytes, quotes included) stay out of the skeleton. */
export const BIG_STRING_BYTES = 64 * 1024;

/** A body that is not JSON, with the byte offset where that became clear. */
export class JsonScanError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} in JSON at position ${position}`);
  }
}

// Per process: no string a client sends can pass for a placeholder.
const NONCE = randomBytes(9).toString("hex");
const MARK = `kiln-big-string-${NONCE}-`;
const ARRAY_MARK = `kiln-big-array-${NONCE}-`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** Index of the first byte below 0x20 in b[from, to), or -1. Whole 32-bit words where aligned. */
function firstControl(b: Buffer, from: number, to: number): number {
  let i = from;
  const base = b.byteOffset;
  while (i < to && ((base + i) & 3) !== 0) {
    if (b[i]! < 0x20) return i;
    i++;
  }
  const words = (to - i) >> 2;
  if (words > 0) {
    const u = new Uint32Array(b.buffer, base + i, words);
    for (let w = 0; w < words; w++) {
      const x = u[w]!;
      // Exact "some byte of x is below 0x20" (the classic has-less-than test, valid for n <= 128).
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
        for (let k = i + 4 * w; k < i + 4 * w + 4; k++) if (b[k]! < 0x20) return k;
      }
    }
    i += words * 4;
  }
  for (; i < to; i++) if (b[i]! < 0x20) return i;
  return -1;
}

/** Code points in valid UTF-8: the bytes that do not continue a sequence. */
function countCodePoints(b: Buffer, from: number, to: number): number {
  if (isAscii(b.subarray(from, to))) return to - from;
  let n = 0;
  for (let i = from; i < to; i++) if ((b[i]! & 0xc0) !== 0x80) n++;
  return n;
}

/** Bytes of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Where an unfinished UTF-8 sequence at the end of b[from, to) starts (to when there is none). */
function incompleteTail(b: Buffer, from: number, to: number): number {
  for (let k = to - 1; k >= Math.max(from, to - 3); k--) {
    const c = b[k]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = sequenceLength(c);
    return need > to - k ? k : to;
  }
  return to;
}

const isHex = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

export interface ScannedBody {
  /** The body with every big string literal replaced by a placeholder literal (UTF-8). */
  skeleton: Buffer;
  /** Deepest bracket nesting outside strings. */
  depth: number;
  /** Total body bytes. */
  bytes: number;
}

export class JsonBodyScanner {
  /**
   * Bytes examined, by searches and checks together: a few times the body at most, whatever its
   * chunking or escapes (tests hold it to that; a search that went back over bytes would show).
   */
  bytesScanned = 0;
  /** The big strings found, in order; placeholder k stands for strings[k]. */
  readonly strings: JsonStringBytes[] = [];
  /** The big arrays of scalars found, in order, and the body offset of each one's `[`. */
  readonly arrays: JsonArrayBytes[] = [];
  private readonly arrayOffsets: number[] = [];
  /** The innermost open array while it holds only scalars, from its `[` (skeleton and body offsets). */
  private scalars: { check: ScalarArrayCheck; skeletonAt: number; bodyAt: number } | null = null;
  private readonly checker = new ScalarArrayCheck();
  /** Per big string: [placeholder start in the skeleton, placeholder length, original length]. */
  private readonly spans: [number, number, number][] = [];

  private readonly skeleton: Buffer[] = [];
  private skeletonBytes = 0;
  private offset = 0; // body offset of the current chunk's first byte
  private depth = 0;
  private maxDepth = 0;

  // The string literal being read, if any.
  private inString = false;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private codePoints = 0;
  private escaped = false;
  /** 0: not in an escape; 1: after a backslash; 2-5: that many hex digits of \uXXXX still to come. */
  private escape = 0;
  private hex = 0;
  /** The previous thing in the string was a \u escape of a high surrogate (a pair counts once). */
  private afterHigh = false;
  private utf8Carry: Buffer | null = null;

  constructor(private readonly bigBytes = BIG_STRING_BYTES) {}

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let pieceStart = 0; // where the string's bytes in this chunk start
    // The next quote and backslash at or after i (n: none left in this chunk), searched again only
    // once passed, so each byte is searched for each of them once.
    let q = -1;
    let bs = -1;
    const nextQuote = (): number => {
      if (q < i) {
        q = (q = chunk.indexOf(QUOTE, i)) < 0 ? n : q;
        this.bytesScanned += q - i; // what the search went over
      }
      return q;
    };
    const nextBackslash = (): number => {
      if (bs < i) {
        bs = (bs = chunk.indexOf(BACKSLASH, i)) < 0 ? n : bs;
        this.bytesScanned += bs - i;
      }
      return bs;
    };
    while (i < n) {
      if (!this.inString) {
        const open = nextQuote();
        const rest = this.structure(chunk, i, open);
        this.addSkeleton(chunk.subarray(rest, open));
        if (open === n) break;
        if (this.scalars) this.leaveScalars(this.offset + open, QUOTE);
        this.inString = true;
        this.parts = [];
        this.partsBytes = 0;
        this.codePoints = 0;
        this.escaped = false;
        this.escape = 0;
        this.afterHigh = false;
        this.utf8Carry = null;
        pieceStart = open;
        i = open + 1;
        this.bytesScanned += 1;
        continue;
      }
      if (this.escape > 0) {
        i = this.escapeBytes(chunk, i);
        continue;
      }
      // Plain string content up to the next quote or backslash (or the end of the chunk).
      const close = nextQuote();
      const escape = nextBackslash();
      const stop = Math.min(close, escape);
      this.content(chunk, i, stop);
      if (stop === n) break;
      this.bytesScanned += 1;
      if (stop === escape) {
        this.escaped = true;
        this.escape = 1;
        i = escape + 1;
        continue;
      }
      // The closing quote (an escaped one was consumed by escapeBytes, never found here).
      if (this.utf8Carry) this.fail("String literal that is not valid UTF-8", this.offset + close);
      this.addStringPart(chunk.subarray(pieceStart, close + 1));
      this.closeString();
      i = close + 1;
    }
    if (this.inString && pieceStart < n) this.addStringPart(chunk.subarray(pieceStart, n));
    this.offset += n;
  }

  /** The skeleton, once the whole body has been pushed. */
  end(): ScannedBody {
    if (this.inString) this.fail("Unterminated string", this.offset);
    const skeleton =
      this.skeleton.length === 1 ? this.skeleton[0]! : Buffer.concat(this.skeleton, this.skeletonBytes);
    this.skeleton.length = 0;
    return { skeleton, depth: this.maxDepth, bytes: this.offset };
  }

  /**
   * The parsed skeleton with its placeholders swapped for the big strings (object keys become plain
   * strings again: a key is always a JS string).
   */
  restore(value: unknown): unknown {
    if (this.strings.length === 0 && this.arrays.length === 0) return value;
    return this.swap(value);
  }

  /** A JSON.parse error position in the skeleton, as a position in the body. */
  bodyPosition(skeletonPosition: number): number {
    let shift = 0;
    for (const [at, placeholder, original] of this.spans) {
      if (at >= skeletonPosition) break;
      shift += original - placeholder;
    }
    return skeletonPosition + shift;
  }

  private swap(value: unknown): unknown {
    if (typeof value === "string") {
      if (value.startsWith(MARK)) return this.strings[Number(value.slice(MARK.length))] ?? value;
      if (value.startsWith(ARRAY_MARK)) return this.arrays[Number(value.slice(ARRAY_MARK.length))] ?? value;
      return value;
    }
    if (Array.isArray(value)) {
      for (let k = 0; k < value.length; k++) value[k] = this.swap(value[k]);
      return value;
    }
    if (typeof value === "object" && value !== null) {
      const o = value as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        const v = this.swap(o[key]);
        if (key.startsWith(ARRAY_MARK)) {
          // The placeholder made `{[...]: v}` look like JSON: an array is no key.
          const k = Number(key.slice(ARRAY_MARK.length));
          this.fail("Unexpected array as an object key", this.arrayOffsets[k] ?? 0);
        }
        if (key.startsWith(MARK)) {
          const big = this.strings[Number(key.slice(MARK.length))];
          delete o[key];
          o[big ? big.text() : key] = v;
        } else o[key] = v;
      }
    }
    return value;
  }

  private fail(reason: string, position: number): never {
    throw new JsonScanError(reason, position);
  }

  private addSkeleton(piece: Buffer): void {
    if (piece.length === 0) return;
    this.skeleton.push(piece);
    this.skeletonBytes += piece.length;
  }

  private addStringPart(piece: Buffer): void {
    this.parts.push(piece);
    this.partsBytes += piece.length;
  }

  /**
   * Bracket depth over bytes outside strings (JSON.parse checks the rest of the grammar), and the
   * grammar of an array of scalars while one is open. Returns where the bytes still to go to the
   * skeleton start (after a big array of scalars that closed in b[from, to) and was taken out).
   */
  private structure(b: Buffer, from: number, to: number): number {
    let rest = from;
    for (let k = from; k < to; k++) {
      if (this.scalars) {
        const found = this.scalars.check.feed(b, k, to);
        this.bytesScanned += (found === MORE ? to : this.scalars.check.at) - k;
        if (found === MORE) break;
        k = this.scalars.check.at;
        if (found === CLOSED) {
          this.depth--;
          rest = this.closeScalars(b, rest, k);
          continue;
        }
        this.leaveScalars(this.offset + k, b[k]!);
      }
      const c = b[k]!;
      if (c === 0x7b || c === 0x5b) {
        if (++this.depth > this.maxDepth) this.maxDepth = this.depth;
        // Inside the top-level value: a candidate until it holds something other than scalars.
        if (c === 0x5b && this.depth > 1) {
          this.checker.reset();
          this.scalars = {
            check: this.checker,
            skeletonAt: this.skeletonBytes + (k - rest),
            bodyAt: this.offset + k,
          };
        }
      } else if (c === 0x7d || c === 0x5d) this.depth--;
    }
    return rest;
  }

  /**
   * The array of scalars being checked turned out to be something else at body offset `at`, byte `c`:
   * a string or a container as an item, or a grammar error. A grammar error in a big one is refused at
   * once (else JSON.parse would go over all of it first); a small one stays in the skeleton for
   * JSON.parse to report.
   */
  private leaveScalars(at: number, c: number): void {
    const { check, bodyAt } = this.scalars!;
    this.scalars = null;
    const item = check.awaitingItem && (c === QUOTE || c === 0x5b || c === 0x7b);
    if (!item && at - bodyAt >= this.bigBytes) this.fail("Unexpected character in an array of numbers", at);
  }

  /**
   * An array of scalars closed at b[close]: a big one leaves the skeleton (its bytes, from its `[`,
   * become a JsonArrayBytes over the request's buffers) for a placeholder. Returns where the
   * skeleton's bytes in b resume.
   */
  private closeScalars(b: Buffer, rest: number, close: number): number {
    const { check, skeletonAt, bodyAt } = this.scalars!;
    this.scalars = null;
    const bytes = this.offset + close + 1 - bodyAt;
    if (bytes < this.bigBytes) return rest;
    // Its bytes are the skeleton's from skeletonAt on, once b[rest, close] is there too.
    this.addSkeleton(b.subarray(rest, close + 1));
    const parts: Buffer[] = [];
    let at = this.skeletonBytes;
    while (at > skeletonAt) {
      const piece = this.skeleton.pop()!;
      at -= piece.length;
      if (at >= skeletonAt) parts.push(piece);
      else {
        parts.push(piece.subarray(skeletonAt - at));
        this.skeleton.push(piece.subarray(0, skeletonAt - at));
        at = skeletonAt;
      }
    }
    this.skeletonBytes = skeletonAt;
    parts.reverse();
    const k = this.arrays.length;
    this.arrays.push(
      new JsonArrayBytes(
        parts,
        bytes,
        check.length,
        // Copies: the checker is reset for the next array.
        { ...check.integers },
        { ...check.fractions },
        { ...check.booleans },
        { ...check.nulls },
      ),
    );
    this.arrayOffsets.push(bodyAt);
    const placeholder = Buffer.from(`"${ARRAY_MARK}${k}"`);
    this.spans.push([this.skeletonBytes, placeholder.length, bytes]);
    this.addSkeleton(placeholder);
    return close + 1;
  }

  /** Unescaped string bytes b[from, to): no control characters, valid UTF-8; counts code points. */
  private content(b: Buffer, from: number, to: number): void {
    if (to === from) return;
    this.bytesScanned += to - from;
    this.afterHigh = false;
    const control = firstControl(b, from, to);
    if (control >= 0) this.fail("Bad control character in string literal", this.offset + control);
    let start = from;
    if (this.utf8Carry) {
      // Finish the sequence the previous chunk cut, then go on from there.
      const carry = this.utf8Carry;
      const need = sequenceLength(carry[0]!) - carry.length;
      const joined = Buffer.concat([carry, b.subarray(from, Math.min(to, from + need))]);
      if (joined.length < carry.length + need) {
        this.utf8Carry = joined; // still not whole (a chunk of one or two bytes)
        return;
      }
      if (!isUtf8(joined)) this.fail("String literal that is not valid UTF-8", this.offset + from);
      this.codePoints += 1;
      this.utf8Carry = null;
      start = from + need;
    }
    const tail = incompleteTail(b, start, to);
    if (tail > start) {
      if (!isUtf8(b.subarray(start, tail)))
        this.fail("String literal that is not valid UTF-8", this.offset + start);
      this.codePoints += countCodePoints(b, start, tail);
    }
    if (tail < to) this.utf8Carry = Buffer.from(b.subarray(tail, to));
  }

  /** Bytes of an escape sequence from b[i]; returns where plain content resumes. */
  private escapeBytes(b: Buffer, i: number): number {
    if (this.utf8Carry) this.fail("String literal that is not valid UTF-8", this.offset + i - 1);
    const n = b.length;
    while (i < n && this.escape > 0) {
      const c = b[i]!;
      this.bytesScanned += 1;
      if (this.escape === 1) {
        if (c === 0x75) {
          this.escape = 5; // four hex digits follow
          this.hex = 0;
        } else if (SIMPLE_ESCAPES.has(c)) {
          this.escape = 0;
          this.codePoints += 1;
          this.afterHigh = false;
        } else this.fail("Bad escaped character", this.offset + i);
      } else {
        if (!isHex(c)) this.fail("Bad Unicode escape", this.offset + i);
        this.hex = this.hex * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
        this.escape = this.escape === 2 ? 0 : this.escape - 1;
        if (this.escape === 0) {
          const low = this.hex >= 0xdc00 && this.hex <= 0xdfff;
          if (!(low && this.afterHigh)) this.codePoints += 1;
          this.afterHigh = this.hex >= 0xd800 && this.hex <= 0xdbff;
        }
      }
      i++;
    }
    return i;
  }

  private closeString(): void {
    this.inString = false;
    if (this.partsBytes < this.bigBytes) {
      for (const p of this.parts) this.addSkeleton(p);
      this.parts = [];
      return;
    }
    const k = this.strings.length;
    this.strings.push(new JsonStringBytes(this.parts, this.partsBytes, this.codePoints, this.escaped));
    const placeholder = Buffer.from(`"${MARK}${k}"`);
    this.spans.push([this.skeletonBytes, placeholder.length, this.partsBytes]);
    this.addSkeleton(placeholder);
    this.parts = [];
  }
}
