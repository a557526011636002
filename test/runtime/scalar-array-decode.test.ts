/**
 * The list decoder for big array inputs gives exactly JSON.parse's values (signs, zeros, long
 * mantissas, exponents, literals, whitespace), and hands anything else back to JSON.parse.
 */
import { describe, expect, it } from "vitest";
import { decodeScalarArray } from "../../src/runtime/scalar-array-decode.js";
import { decodeJson } from "../../src/runtime/raw-json.js";

const decode = (text: string): unknown[] | null => decodeScalarArray(Buffer.from(text));

describe("decodeScalarArray", () => {
  it("agrees with JSON.parse bit for bit on numbers of every form", () => {
    const texts = [
      "0",
      "-0",
      "-0.0",
      "1",
      "-1",
      "0.1",
      "0.25",
      "3.141592653589793",
      "123456789012345",
      "1234567890123456",
      "12345678901234567890",
      "9007199254740993",
      "0.000001",
      "1e2",
      "1E-7",
      "-2.5e+3",
      "1e400",
      "-1e-400",
      "4.9406564584124654e-324",
      "1.7976931348623157e308",
      "0.1000000000000000055511151231257827",
      "123.456e-2",
    ];
    // Random decimals as JSON.stringify writes them, and as people write them.
    for (let k = 0; k < 2000; k++) {
      const x = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 30 - 15);
      texts.push(String(x), x.toFixed(Math.floor(Math.random() * 12)));
    }
    const text = `[${texts.join(",")}]`;
    const got = decode(text)!;
    const want = JSON.parse(text) as number[];
    expect(got).toHaveLength(want.length);
    for (let k = 0; k < want.length; k++) expect(Object.is(got[k], want[k]), `${texts[k]}`).toBe(true);
  });

  it("literals and whitespace", () => {
    expect(decode(" [ true ,false,\n null\t, 1 ] ".trim())).toEqual([true, false, null, 1]);
    expect(decode("[]")).toEqual([]);
    expect(decode("[ \n ]")).toEqual([]);
  });

  it("anything that is not such an array is left to JSON.parse", () => {
    for (const text of [
      '[1,"a"]',
      "[[1]]",
      "[{}]",
      "[1,]",
      "[,1]",
      "[01]",
      "[-]",
      "[1.]",
      "[.5]",
      "[1e]",
      "[1e+]",
      "[tru]",
      "[truex]",
      "[1 2]",
      "[1]]",
      "[1",
      "1",
      "[nul]",
      "[+1]",
      "[NaN]",
      "[-01]",
    ]) {
      expect(decode(text), text).toBeNull();
    }
  });

  it("decodeJson uses it, and JSON.parse still reports what is not JSON", () => {
    const parts = [Buffer.from("[1.5, tr"), Buffer.from("ue, null]")];
    expect(decodeJson(parts, 17)).toEqual([1.5, true, null]);
    expect(decodeJson([Buffer.from('[1, "x", [2]]')], 13)).toEqual([1, "x", [2]]);
    expect(() => decodeJson([Buffer.from("[1,,2]")], 6)).toThrow(SyntaxError);
  });
});

describe("decodeJson of a string literal in pieces", () => {
  it("ASCII without escapes is joined from its pieces; anything else still decodes exactly", () => {
    const pieces = (text: string, cuts: number[]): Buffer[] => {
      const b = Buffer.from(text);
      const out: Buffer[] = [];
      let at = 0;
      for (const c of [...cuts, b.length]) {
        out.push(b.subarray(at, c));
        at = c;
      }
      return out;
    };
    for (const value of ["abc def", 'q"uo\\te', "é中😀 text", "tab\there", ""]) {
      const literal = JSON.stringify(value);
      const n = Buffer.byteLength(literal);
      for (let cut = 1; cut < n; cut++) {
        expect(decodeJson(pieces(literal, [cut]), n)).toBe(value);
        if (cut + 1 < n) expect(decodeJson(pieces(literal, [cut, cut + 1]), n)).toBe(value);
      }
    }
    // A single quote byte cut off from a number array is no literal.
    expect(decodeJson(pieces('"ab"', [1]), 4)).toBe("ab");
    expect(decodeJson(pieces("[1, 2]", [2]), 6)).toEqual([1, 2]);
  });
});
