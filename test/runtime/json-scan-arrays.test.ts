/**
 * Big arrays of numbers, booleans and null in a request body stay bytes (issue 15: a 100 MB list of
 * floats would otherwise go through one JSON.parse on the event loop): their grammar is checked while
 * they stream past, the scan counts the kinds of items, and validation works from those counts. Work is
 * counted in bytes looked at, never timed.
 */
import { describe, expect, it } from "vitest";
import { BIG_STRING_BYTES } from "../../src/runtime/http/json-scan.js";
import { HttpError } from "../../src/runtime/http/respond.js";
import { refusal, scan } from "./json-body-helpers.js";
import { parseEnvelope } from "../../src/runtime/http/prediction-request.js";
import { JsonArrayBytes, stringifyJson } from "../../src/runtime/raw-json.js";
import { detachInputs } from "../../src/runtime/protocol.js";
import { isExternalArray } from "../../src/schema/external-array.js";
import { validateInput } from "../../src/schema/validate.js";
import type { PredictorSchema } from "../../src/schema/types.js";

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** `n` numbers in every form JSON's grammar has, with booleans and nulls among them. */
function mixedItems(n: number): unknown[] {
  const forms = [0, -0.5, 12, 3.25e-7, -1e21, 1e2, true, null, 7, false];
  return Array.from({ length: n }, (_, i) => forms[i % forms.length]);
}

describe("big arrays of scalars stay bytes", () => {
  it("a 20 MB array of floats: kept whole, each byte looked at a bounded number of times", () => {
    const count = 4_000_000;
    const body = `{"input":{"xs":[${"0.25,".repeat(count - 1)}0.25],"n":1}}`;
    const { scanner, value } = scan(body);
    // Searched for quotes once, then checked once: two passes (and the read holding the short strings
    // is searched for a backslash once more).
    expect(scanner.bytesScanned).toBeLessThanOrEqual(2 * body.length + 65_536);
    expect(scanner.bytesScanned).toBeGreaterThanOrEqual(body.length);
    const input = (value as { input: { xs: JsonArrayBytes; n: number } }).input;
    expect(input.n).toBe(1);
    expect(input.xs).toBeInstanceOf(JsonArrayBytes);
    expect(isExternalArray(input.xs)).toBe(true);
    expect(input.xs.length).toBe(count);
    expect(input.xs.fractions).toEqual({ count, first: 0 });
    expect(input.xs.integers.count).toBe(0);
    expect(input.xs.bytes).toBe(body.length - '{"input":{"xs":,"n":1}}'.length);
    // The request's own buffers: one part per read, no copy.
    expect(input.xs.parts.length).toBeGreaterThan(250);
    expect(scanner.arrays).toHaveLength(1);
  });

  it("agrees with JSON.parse, whatever the chunking, and counts each kind of item", () => {
    const items = mixedItems(3000);
    const doc = { input: { a: items, nested: [[1, 2], items], s: "x", after: [1, 2] }, id: "i" };
    const body = JSON.stringify(doc).replaceAll(",", " ,\n\t").replace("[0", "[ \r\n0");
    for (const size of [1, 7, 1000, 65_536]) {
      const { value, scanner } = scan(body, size, 1024);
      expect(plain(value)).toEqual(doc);
      expect(scanner.arrays).toHaveLength(2); // a and the second item of nested; [1, 2] are small
      const a = (value as { input: { a: JsonArrayBytes } }).input.a;
      expect(a.length).toBe(3000);
      // JSON.stringify writes 1e2 as 100: four integers and three others in each ten.
      expect(a.integers).toEqual({ count: 1200, first: 0 });
      expect(a.fractions).toEqual({ count: 900, first: 1 });
      expect(a.booleans).toEqual({ count: 600, first: 6 });
      expect(a.nulls).toEqual({ count: 300, first: 7 });
    }
  });

  it("an array holding a string or a container is an ordinary part of the body", () => {
    const numbers = Array.from({ length: 30_000 }, (_, i) => i);
    const doc = { input: { withString: [...numbers, "s"], withObject: [{ a: 1 }, ...numbers], empty: [] } };
    const { value, scanner } = scan(JSON.stringify(doc));
    expect(scanner.arrays).toHaveLength(0);
    expect(value).toEqual(doc);
  });

  it("the top-level value itself is never kept (the envelope is parsed)", () => {
    const list = Array.from({ length: 30_000 }, (_, i) => i);
    const { value, scanner } = scan(JSON.stringify(list));
    expect(scanner.arrays).toHaveLength(0);
    expect(value).toEqual(list);
  });

  it("goes back out as the bytes it came in, and crosses to the worker as an attachment", () => {
    const body = `{"input":{"xs":[${"1, ".repeat(40_000)}2]}}`;
    const { value } = scan(body);
    const { input } = parseEnvelope(value);
    const out = stringifyJson({ input });
    expect(Array.isArray(out)).toBe(true);
    expect(Buffer.concat((out as (string | Buffer)[]).map((c) => Buffer.from(c))).toString()).toBe(body);
    const { input: inline, attachments } = detachInputs(input as Record<string, unknown>);
    expect(inline).toEqual({ xs: null });
    expect(attachments.map((a) => a.path)).toEqual([["xs"]]);
  });

  it("a client cannot forge an array placeholder", () => {
    const { value } = scan(JSON.stringify({ a: "kiln-big-array-0-0", b: Array(30_000).fill(1) }));
    expect((value as { a: string }).a).toBe("kiln-big-array-0-0");
  });
});

describe("bad arrays get 400s with byte positions", () => {
  const head = `{"input":{"xs":[${"1,".repeat(BIG_STRING_BYTES)}`;

  it("a grammar error in a big array is refused where it is, before the rest is parsed", async () => {
    for (const [bad, offset] of [
      ["1 2]}}", 2],
      ["01]}}", 1],
      ["-]}}", 1],
      ["1.]}}", 2],
      ["1e+]}}", 3],
      ["tru]}}", 3],
      ["nul1]}}", 3],
      ["1,]}}", 2],
      ["x]}}", 0],
    ] as const) {
      expect(await refusal(head + bad)).toBe(
        `invalid JSON body: Unexpected character in an array of numbers in JSON at position ${head.length + offset}`,
      );
    }
  });

  it("an error in a small array, or after a big one, is JSON.parse's, at its position in the body", async () => {
    expect(await refusal('{"input":{"xs":[1,,2]}}')).toMatch(/^invalid JSON body: Unexpected token ','/);
    const body = `${head}1],}}`;
    const detail = await refusal(body);
    expect(detail).toMatch(/^invalid JSON body: /);
    expect(detail).toContain(`position ${body.length - 2}`);
  });

  it("an unterminated big array is refused", async () => {
    expect(await refusal(`${head}1`)).toMatch(/^invalid JSON body: /);
  });

  it("an array where a key belongs is refused, not turned into a key", async () => {
    const at = '{"input":{'.length;
    expect(await refusal(`{"input":{[${"1,".repeat(BIG_STRING_BYTES)}1]:1}}`)).toBe(
      `invalid JSON body: Unexpected array as an object key in JSON at position ${at}`,
    );
  });

  it("a big array as the input itself is not a dictionary", () => {
    const { value } = scan(`{"input":[${"1,".repeat(BIG_STRING_BYTES)}1]}`);
    expect(() => parseEnvelope(value)).toThrow(HttpError);
  });
});

describe("validation of a kept array", () => {
  const schema = (items: object, extra: object = {}): PredictorSchema =>
    ({
      input: {
        type: "object",
        properties: { xs: { type: "array", items, ...extra } },
        required: ["xs"],
      },
      output: {},
    }) as unknown as PredictorSchema;
  /** The input `{xs: items}` with xs kept as bytes (`items` as JSON text when a string). */
  const kept = (items: unknown[] | string): unknown => {
    const text = typeof items === "string" ? items : JSON.stringify(items);
    const { value } = scan(`{"input":{"xs":${text}}}`, 65_536, 64);
    const xs = (value as { input: { xs: unknown } }).input.xs;
    expect(xs).toBeInstanceOf(JsonArrayBytes);
    return (value as { input: unknown }).input;
  };
  const issues = (s: PredictorSchema, input: unknown) => {
    const r = validateInput(s, input);
    return r.ok ? [] : r.errors;
  };

  it("types: the first item of each wrong kind is named, as for a parsed list", () => {
    const items = [1, 2, 3.5, true, null, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
    const input = kept(items);
    expect(issues(schema({ type: "number" }), input).map((e) => e.loc)).toEqual([
      ["body", "input", "xs", 3],
      ["body", "input", "xs", 4],
    ]);
    expect(issues(schema({ type: "number", nullable: true }), input).map((e) => e.loc)).toEqual([
      ["body", "input", "xs", 3],
    ]);
    expect(issues(schema({ type: "string" }), input).map((e) => e.loc[3])).toEqual([0, 2, 3, 4]);
    // Whatever the kept value, the same verdict as on the parsed list.
    for (const s of [schema({ type: "number" }), schema({ type: "boolean" }), schema({ type: "integer" })]) {
      const onParsed = issues(s, { xs: items });
      expect(
        issues(s, input).every((e) => onParsed.some((p) => JSON.stringify(p) === JSON.stringify(e))),
      ).toBe(true);
      expect(issues(s, input).length > 0).toBe(onParsed.length > 0);
    }
  });

  it("a check on the values (bounds, integers written 1e2) looks at every parsed item", () => {
    const ints = Array.from({ length: 40 }, (_, i) => i);
    expect(issues(schema({ type: "integer", maximum: 30 }), kept(ints)).map((e) => e.loc[3])).toEqual(
      ints.slice(31),
    );
    const written = kept("[1e2, 2.0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]");
    expect(issues(schema({ type: "integer" }), written)).toEqual([]);
    const half = kept("[0.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]");
    expect(issues(schema({ type: "integer" }), half).map((e) => [e.loc[3], e.type])).toEqual([
      [0, "int_from_float"],
    ]);
  });

  it("minItems and maxItems count the kept items", () => {
    const input = kept(Array.from({ length: 40 }, () => 1));
    expect(issues(schema({ type: "number" }, { maxItems: 39 }), input).map((e) => e.type)).toEqual([
      "too_long",
    ]);
    expect(issues(schema({ type: "number" }, { minItems: 41 }), input).map((e) => e.type)).toEqual([
      "too_short",
    ]);
    expect(issues(schema({ type: "number" }, { minItems: 40, maxItems: 40 }), input)).toEqual([]);
  });

  it("a kept array is not an object", () => {
    const s = {
      input: { type: "object", properties: { xs: { type: "object" } }, required: ["xs"] },
      output: {},
    } as unknown as PredictorSchema;
    expect(issues(s, kept(Array.from({ length: 40 }, () => 1))).map((e) => e.loc)).toEqual([
      ["body", "input", "xs"],
    ]);
  });
});
