import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inputFields, outputShape, rangeText } from "../../src/playground/page/fields.js";

const doc = JSON.parse(
  readFileSync(new URL("../prediction/fixtures/openapi-inputs.json", import.meta.url), "utf8"),
) as unknown;

describe("playground fields from the OpenAPI Input schema", () => {
  const fields = inputFields(doc);
  const by = (name: string) => fields.find((f) => f.name === name)!;

  it("keeps x-order and every input", () => {
    expect(fields.map((f) => f.name)).toEqual([
      "prompt",
      "steps",
      "guidance",
      "upscale",
      "scheduler",
      "image",
      "words",
      "sizes",
      "extra",
      "token",
      "tag",
      "seed",
      "files",
      "ratio",
    ]);
  });

  it("maps each input kind to a control kind", () => {
    expect(by("prompt")).toMatchObject({
      kind: "textarea",
      required: true,
      description: "What to draw",
      list: false,
    });
    expect(by("steps")).toMatchObject({ kind: "integer", minimum: 1, maximum: 50, default: 20 });
    expect(by("guidance")).toMatchObject({ kind: "number", minimum: 0, maximum: null, default: 7.5 });
    expect(by("upscale")).toMatchObject({ kind: "boolean", default: false });
    expect(by("scheduler")).toMatchObject({
      kind: "choice",
      choices: ["ddim", "euler", "pndm"],
      default: "ddim",
      title: "Scheduler",
      description: null,
    });
    expect(by("seed")).toMatchObject({ kind: "choice", choices: [1, 2, 3] });
    expect(by("image")).toMatchObject({ kind: "file", nullable: true, list: false });
    expect(by("files")).toMatchObject({ kind: "file", list: true });
    expect(by("words")).toMatchObject({ kind: "text", list: true, default: [] });
    expect(by("sizes")).toMatchObject({ kind: "integer", list: true, minimum: 1 });
    expect(by("extra")).toMatchObject({ kind: "json" });
    expect(by("token")).toMatchObject({ kind: "secret" });
    expect(by("tag")).toMatchObject({ kind: "text", minLength: 2, maxLength: 4, pattern: "^[a-z]+$" });
  });

  it("states ranges the way a person reads them", () => {
    expect(rangeText(by("steps"))).toBe("1 – 50");
    expect(rangeText(by("guidance"))).toBe("≥ 0");
    expect(rangeText(by("ratio"))).toBe("> 0");
    expect(rangeText(by("prompt"))).toBeNull();
  });

  it("uses a one-line box for short strings and a text area for prompts", () => {
    const mk = (name: string, prop: Record<string, unknown>) =>
      inputFields({
        components: {
          schemas: { Input: { type: "object", properties: { [name]: { type: "string", ...prop } } } },
        },
      })[0]!.kind;
    expect(mk("name", {})).toBe("text");
    expect(mk("negative_prompt", {})).toBe("textarea");
    expect(mk("notes", { maxLength: 2000 })).toBe("textarea");
    expect(mk("prompt", { maxLength: 20 })).toBe("text");
    expect(mk("template", { default: "a\nb" })).toBe("textarea");
  });

  it("orders inputs without x-order after those with it, in document order", () => {
    const f = inputFields({
      components: {
        schemas: {
          Input: {
            type: "object",
            properties: { b: { type: "string" }, a: { type: "string", "x-order": 0 }, c: { type: "string" } },
          },
        },
      },
    });
    expect(f.map((x) => x.name)).toEqual(["a", "b", "c"]);
  });

  it("has no fields for a document without Input", () => {
    expect(inputFields({})).toEqual([]);
    expect(inputFields(null)).toEqual([]);
  });

  it("reads the output shape: concatenate iterators stream text, file outputs preview", () => {
    const out = (Output: unknown) => outputShape({ components: { schemas: { Output } } });
    expect(
      out({
        type: "array",
        items: { type: "string" },
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
      }),
    ).toEqual({ iterator: true, concatenate: true, file: false });
    expect(
      out({ type: "array", items: { type: "string", format: "uri" }, "x-cog-array-type": "iterator" }),
    ).toEqual({ iterator: true, concatenate: false, file: true });
    expect(out({ type: "string", format: "uri" })).toEqual({
      iterator: false,
      concatenate: false,
      file: true,
    });
    expect(out({ type: "array", items: { type: "string" } })).toEqual({
      iterator: false,
      concatenate: false,
      file: false,
    });
  });
});
