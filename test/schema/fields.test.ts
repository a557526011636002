import { describe, expect, it } from "vitest";
import { fileFields, outputKind, secretFields } from "../../src/schema/fields.js";
import { sampleSchema } from "./sample.js";

describe("fields", () => {
  it("finds file inputs, including lists of files", () => {
    expect(fileFields(sampleSchema)).toEqual([
      { name: "image", list: false },
      { name: "images", list: true },
    ]);
  });
  it("finds secret inputs", () => {
    expect(secretFields(sampleSchema)).toEqual([{ name: "token", list: false }]);
  });
  it("knows the output shape", () => {
    expect(outputKind(sampleSchema)).toBe("concatenate");
    expect(
      outputKind({ ...sampleSchema, output: { type: "array", items: {}, "x-cog-array-type": "iterator" } }),
    ).toBe("iterator");
    expect(outputKind({ ...sampleSchema, output: { type: "array", items: {} } })).toBe("single");
    expect(outputKind(sampleSchema, "train")).toBe("single");
  });
});
