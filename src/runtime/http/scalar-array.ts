/**
 * The grammar of a JSON array whose items are all numbers, booleans or null (`[1, -2.5e3, true,
 * null]`), checked byte by byte as a request body streams in (json-scan.ts), and the kinds of items
 * counted, so that such an array can stay bytes and still be validated (schema/external-array.ts).
 * Fed from just after its `[`; it stops at its `]`, or at the first byte that is not such an array's:
 * a string or a nested container (the array is then an ordinary part of the body), or a grammar error.
 */
import type { ItemKind } from "../../schema/external-array.js";

// States. The number states follow JSON's number grammar: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
const FIRST = 0; // after `[`: an item or `]`
const ITEM = 1; // after `,`: an item
const AFTER = 2; // after an item: `,` or `]`
const MINUS = 3;
const ZERO = 4;
const INT = 5;
const DOT = 6;
const FRACTION = 7;
const EXP = 8;
const EXP_SIGN = 9;
const EXP_DIGITS = 10;
const LITERAL = 11;

const TRUE = Buffer.from("true");
const FALSE = Buffer.from("false");
const NULL = Buffer.from("null");

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** What feed() found: the array's `]`, a byte that ends the check, or neither in the bytes given. */
export const CLOSED = -1;
const STOPPED = -2;
export const MORE = -3;

export class ScalarArrayCheck {
  length = 0;
  readonly integers: ItemKind = { count: 0, first: -1 };
  readonly fractions: ItemKind = { count: 0, first: -1 };
  readonly booleans: ItemKind = { count: 0, first: -1 };
  readonly nulls: ItemKind = { count: 0, first: -1 };
  /** Where feed() stopped (CLOSED: the `]`, STOPPED: the byte that is not this array's). */
  at = 0;
  private state = FIRST;
  private literal: Buffer = TRUE;
  private literalAt = 0;
  private fraction = false;

  /** Ready for another array (one checker serves every small array of a body). */
  reset(): void {
    this.length = 0;
    for (const kind of [this.integers, this.fractions, this.booleans, this.nulls]) {
      kind.count = 0;
      kind.first = -1;
    }
    this.state = FIRST;
  }

  /**
   * Checks b[from, to): CLOSED with `at` on the `]`, STOPPED with `at` on a byte that is not this
   * array's (see startsValue() for whether it may start an item), or MORE when the bytes ran out.
   */
  feed(b: Buffer, from: number, to: number): number {
    let state = this.state;
    for (let k = from; k < to; k++) {
      const c = b[k]!;
      switch (state) {
        case INT:
        case FRACTION:
        case EXP_DIGITS:
          if (isDigit(c)) continue;
          if (state !== EXP_DIGITS && (c === 0x65 || c === 0x45)) {
            state = EXP;
            this.fraction = true;
            continue;
          }
          if (state === INT && c === 0x2e) {
            state = DOT;
            this.fraction = true;
            continue;
          }
          state = this.endNumber();
          break; // the byte after a number is checked as what follows an item
        case AFTER:
          break;
        case FIRST:
        case ITEM:
          if (isWhitespace(c)) continue;
          if (c === 0x2d) state = MINUS;
          else if (c === 0x30) state = ZERO;
          else if (c >= 0x31 && c <= 0x39) state = INT;
          else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            this.literal = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
            this.literalAt = 1;
            state = LITERAL;
          } else if (c === 0x5d && state === FIRST) {
            return this.stop(k, CLOSED, state);
          } else return this.stop(k, STOPPED, state);
          this.fraction = false;
          continue;
        case MINUS:
          if (c === 0x30) state = ZERO;
          else if (c >= 0x31 && c <= 0x39) state = INT;
          else return this.stop(k, STOPPED, state);
          continue;
        case ZERO:
          if (c === 0x2e) state = DOT;
          else if (c === 0x65 || c === 0x45) state = EXP;
          else {
            state = this.endNumber();
            break;
          }
          this.fraction = true;
          continue;
        case DOT:
          if (!isDigit(c)) return this.stop(k, STOPPED, state);
          state = FRACTION;
          continue;
        case EXP:
          if (c === 0x2b || c === 0x2d) state = EXP_SIGN;
          else if (isDigit(c)) state = EXP_DIGITS;
          else return this.stop(k, STOPPED, state);
          continue;
        case EXP_SIGN:
          if (!isDigit(c)) return this.stop(k, STOPPED, state);
          state = EXP_DIGITS;
          continue;
        case LITERAL:
          if (c !== this.literal[this.literalAt]) return this.stop(k, STOPPED, state);
          if (++this.literalAt === this.literal.length) {
            this.count(this.literal === NULL ? this.nulls : this.booleans);
            state = AFTER;
          }
          continue;
      }
      // AFTER (or a number just ended at this byte).
      if (isWhitespace(c)) continue;
      if (c === 0x2c) state = ITEM;
      else if (c === 0x5d) return this.stop(k, CLOSED, state);
      else return this.stop(k, STOPPED, state);
    }
    this.state = state;
    return MORE;
  }

  /** After STOPPED: whether the array was waiting for an item there (so a string or container may start). */
  get awaitingItem(): boolean {
    return this.state === FIRST || this.state === ITEM;
  }

  private stop(k: number, result: number, state: number): number {
    this.state = state;
    this.at = k;
    return result;
  }

  private endNumber(): number {
    this.count(this.fraction ? this.fractions : this.integers);
    return AFTER;
  }

  private count(kind: ItemKind): void {
    if (kind.count++ === 0) kind.first = this.length;
    this.length++;
  }
}
