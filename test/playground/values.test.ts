import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inputFields } from "../../src/playground/page/fields.js";
import { collectInput, displayValue, fieldErrors } from "../../src/playground/page/values.js";

const doc = JSON.parse(
  readFileSync(new URL("../prediction/fixtures/openapi-inputs.json", import.meta.url), "utf8"),
) as unknown;
const fields = inputFields(doc);
const by = (name: string) => fields.find((f) => f.name === name)!;

describe("form values -> prediction input", () => {
  it("parses numbers, choices, lists and JSON, and leaves empty optional fields to the server", () => {
    const { input, errors } = collectInput(fields, {
      prompt: "a red fox",
      steps: "30",
      guidance: " 7.25 ",
      upscale: true,
      scheduler: "euler",
      seed: "2",
      image: "",
      words: ["a", "", "b"],
      sizes: ["64", "128"],
      extra: '{"k": [1, 2]}',
      token: "s3cret",
      tag: "",
      files: [],
      ratio: "",
    });
    expect(errors).toEqual({});
    expect(input).toEqual({
      prompt: "a red fox",
      steps: 30,
      guidance: 7.25,
      upscale: true,
      scheduler: "euler",
      seed: 2,
      words: ["a", "b"],
      sizes: [64, 128],
      extra: { k: [1, 2] },
      token: "s3cret",
    });
  });

  it("says at the field what does not parse", () => {
    const { errors } = collectInput(fields, {
      steps: "2.5",
      guidance: "lots",
      extra: "{nope",
      sizes: ["1", "x"],
    });
    expect(errors.steps).toBe("Enter a whole number.");
    expect(errors.guidance).toBe("Enter a number.");
    expect(errors.extra).toMatch(/^Not valid JSON: /);
    expect(errors.sizes).toBe("Item 2: Enter a number.");
  });

  it("keeps an unchecked box as false (a value the user chose)", () => {
    expect(collectInput(fields, { upscale: false }).input).toEqual({ upscale: false });
  });

  it("shows stored values back in the controls", () => {
    expect(displayValue(by("extra"), { a: 1 })).toBe('{\n  "a": 1\n}');
    expect(displayValue(by("sizes"), [1, 2])).toEqual(["1", "2"]);
    expect(displayValue(by("upscale"), null)).toBe(false);
    expect(displayValue(by("steps"), 20)).toBe("20");
    expect(displayValue(by("words"), undefined)).toEqual([]);
    // A secret comes back from the server redacted: it is not put back into the form.
    expect(displayValue(by("token"), "**********")).toBe("");
    expect(displayValue(by("token"), "typed")).toBe("typed");
  });
});

describe("the server's validation answer -> messages at the fields", () => {
  it("reads /v1 invalid_fields", () => {
    const body = {
      title: "Input validation failed",
      invalid_fields: [
        {
          type: "greater_than_equal",
          field: "input.steps",
          description: "Input should be greater than or equal to 1",
        },
        { type: "missing", field: "input.prompt", description: "Field required" },
        { type: "int_parsing", field: "input.sizes.1", description: "Input should be a valid integer" },
        { type: "x", field: "input.unknown", description: "odd" },
      ],
    };
    const e = fieldErrors(fields, body);
    expect(e.byField).toEqual({
      steps: ["Input should be greater than or equal to 1"],
      prompt: ["Field required"],
      sizes: ["Item 2: Input should be a valid integer"],
    });
    expect(e.general).toEqual(["unknown: odd"]);
  });

  it("reads the container API's FastAPI detail list", () => {
    const e = fieldErrors(fields, {
      detail: [
        {
          loc: ["body", "input", "tag"],
          msg: "String should match pattern '^[a-z]+$'",
          type: "string_pattern_mismatch",
        },
      ],
    });
    expect(e.byField.tag).toEqual(["String should match pattern '^[a-z]+$'"]);
  });

  it("keeps a plain error text as a general message", () => {
    expect(fieldErrors(fields, { detail: "the model is not ready" }).general).toEqual([
      "the model is not ready",
    ]);
  });
});
