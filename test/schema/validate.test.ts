/* eslint-disable @typescript-eslint/no-explicit-any -- tests dig into untyped JSON documents */
import { describe, expect, it } from "vitest";
import { validateInput } from "../../src/schema/validate.js";
import { sampleSchema } from "./sample.js";

const base = { prompt: "hi", level: 2 };

function errorsFor(input: unknown) {
  const result = validateInput(sampleSchema, input);
  if (result.ok) throw new Error("expected a validation error");
  return result.errors;
}

function one(field: string, value: unknown) {
  const errors = errorsFor({ ...base, [field]: value });
  expect(errors).toHaveLength(1);
  return errors[0];
}

describe("validateInput", () => {
  it("applies defaults, nulls optional inputs and drops unknown keys", () => {
    const result = validateInput(sampleSchema, { ...base, nope: 1 });
    expect(result).toEqual({
      ok: true,
      dropped: ["nope"],
      value: {
        prompt: "hi",
        steps: 4,
        scale: 7.5,
        flag: false,
        mode: "fast",
        level: 2,
        image: null,
        images: [],
        token: null,
        code: "abc",
        seed: null,
        tags: ["a"],
        extra: null,
        old: null,
      },
    });
  });

  it("does not share default objects between requests", () => {
    const a = validateInput(sampleSchema, base);
    if (!a.ok) throw new Error("unexpected");
    (a.value.tags as string[]).push("mutated");
    const b = validateInput(sampleSchema, base);
    expect(b.ok && b.value.tags).toEqual(["a"]);
  });

  it("reports every missing required field", () => {
    expect(errorsFor({})).toEqual([
      { loc: ["body", "input", "prompt"], msg: "Field required", type: "missing" },
      { loc: ["body", "input", "level"], msg: "Field required", type: "missing" },
    ]);
    expect(errorsFor(null)).toHaveLength(2);
  });

  it("rejects a non-object input", () => {
    expect(errorsFor("text")).toEqual([
      { loc: ["body", "input"], msg: "Input should be a valid dictionary", type: "dict_type" },
    ]);
    expect(errorsFor([1])[0]?.type).toBe("dict_type");
  });

  it("checks types without meaning-changing coercion", () => {
    expect(one("prompt", 5)).toEqual({
      loc: ["body", "input", "prompt"],
      msg: "Input should be a valid string",
      type: "string_type",
    });
    expect(one("steps", "3")).toEqual({
      loc: ["body", "input", "steps"],
      msg: "Input should be a valid integer",
      type: "int_type",
    });
    expect(one("steps", true)?.type).toBe("int_type");
    expect(one("steps", 2.5)).toMatchObject({
      msg: "Input should be a valid integer, got a number with a fractional part",
      type: "int_from_float",
    });
    expect(one("scale", "1")).toMatchObject({ msg: "Input should be a valid number", type: "float_type" });
    expect(one("flag", "true")).toMatchObject({ msg: "Input should be a valid boolean", type: "bool_type" });
    expect(one("tags", "a")).toMatchObject({ msg: "Input should be a valid list", type: "list_type" });
    expect(one("extra", "{}")).toMatchObject({
      msg: "Input should be a valid dictionary",
      type: "dict_type",
    });
    expect(one("prompt", { a: 1 })?.type).toBe("string_type");
  });

  it("accepts an integer where a number is expected", () => {
    const result = validateInput(sampleSchema, { ...base, scale: 3 });
    expect(result.ok && result.value.scale).toBe(3);
  });

  it("checks array items with their index in loc", () => {
    expect(one("tags", ["a", 2])).toEqual({
      loc: ["body", "input", "tags", 1],
      msg: "Input should be a valid string",
      type: "string_type",
    });
  });

  it("checks numeric bounds", () => {
    expect(one("steps", 0)).toMatchObject({
      msg: "Input should be greater than or equal to 1",
      type: "greater_than_equal",
    });
    expect(one("steps", 11)).toMatchObject({
      msg: "Input should be less than or equal to 10",
      type: "less_than_equal",
    });
    expect(one("scale", 20.5)).toMatchObject({
      msg: "Input should be less than or equal to 20",
      type: "less_than_equal",
    });
  });

  it("checks exclusive bounds in both OpenAPI forms", () => {
    const s = structuredClone(sampleSchema);
    (s.input.properties as any).steps = {
      type: "integer",
      minimum: 1,
      exclusiveMinimum: true,
      exclusiveMaximum: 5,
    };
    const r = validateInput(s, { ...base, steps: 1 });
    expect(!r.ok && r.errors[0]).toMatchObject({
      msg: "Input should be greater than 1",
      type: "greater_than",
    });
    const r2 = validateInput(s, { ...base, steps: 5 });
    expect(!r2.ok && r2.errors[0]).toMatchObject({ msg: "Input should be less than 5", type: "less_than" });
  });

  it("checks string length in characters and patterns", () => {
    expect(one("prompt", "")).toMatchObject({
      msg: "String should have at least 1 character",
      type: "string_too_short",
    });
    expect(one("prompt", "12345678901")).toMatchObject({
      msg: "String should have at most 10 characters",
      type: "string_too_long",
    });
    expect(validateInput(sampleSchema, { ...base, prompt: "😀😀😀😀😀😀😀😀😀😀" }).ok).toBe(true);
    expect(one("code", "ABC")).toMatchObject({
      msg: "String should match pattern '^[a-z]+$'",
      type: "string_pattern_mismatch",
    });
  });

  it("checks list lengths", () => {
    const s = structuredClone(sampleSchema);
    (s.input.properties as any).tags = { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 };
    const r = validateInput(s, { ...base, tags: [] });
    expect(!r.ok && r.errors[0]).toMatchObject({
      msg: "List should have at least 1 item after validation, not 0",
      type: "too_short",
    });
    const r2 = validateInput(s, { ...base, tags: ["a", "b", "c"] });
    expect(!r2.ok && r2.errors[0]).toMatchObject({
      msg: "List should have at most 2 items after validation, not 3",
      type: "too_long",
    });
  });

  it("checks enum choices through their components", () => {
    expect(one("mode", "medium")).toEqual({
      loc: ["body", "input", "mode"],
      msg: "Input should be 'fast' or 'slow'",
      type: "enum",
    });
    expect(one("level", 4)).toMatchObject({ msg: "Input should be 1, 2 or 3", type: "enum" });
    expect(one("level", "1")).toMatchObject({ type: "enum" });
  });

  it("handles null: allowed for nullable and optional inputs, rejected otherwise", () => {
    const r = validateInput(sampleSchema, { ...base, seed: null, image: null });
    expect(r.ok && r.value.seed).toBe(null);
    expect(one("prompt", null)).toMatchObject({ msg: "Input should be a valid string", type: "string_type" });
    expect(one("steps", null)).toMatchObject({ type: "int_type" });
  });

  it("accepts only http(s) and data URIs for files", () => {
    for (const ok of [
      "https://example.com/a.png",
      "http://127.0.0.1:9/x",
      "data:text/plain;base64,aGk=",
      "data:,hi",
    ]) {
      expect(validateInput(sampleSchema, { ...base, image: ok, images: [ok] }).ok).toBe(true);
    }
    expect(one("image", "/etc/passwd")).toMatchObject({
      msg: "Input should be a valid URL, relative URL without a base",
      type: "url_parsing",
    });
    expect(one("image", "file:///etc/passwd")).toMatchObject({
      msg: "URL scheme should be 'http', 'https' or 'data'",
      type: "url_scheme",
    });
    expect(one("image", "data:nocomma")).toMatchObject({ type: "url_parsing" });
    expect(one("image", 3)).toMatchObject({ msg: "URL input should be a string or URL", type: "url_type" });
    expect(one("images", ["ftp://x/y"])).toMatchObject({
      loc: ["body", "input", "images", 0],
      type: "url_scheme",
    });
  });

  it("reports several problems at once", () => {
    expect(errorsFor({ prompt: 1, level: 9, steps: 0 }).map((e) => e.loc[2])).toEqual([
      "prompt",
      "steps",
      "level",
    ]);
  });

  it("knows when there is no trainer", () => {
    const r = validateInput(sampleSchema, {}, "train");
    expect(r.ok).toBe(false);
  });
});
