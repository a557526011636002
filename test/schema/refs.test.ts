/** One $ref resolver for the validator, the file-field scan and the CLI's view of an image. */
import { describe, expect, it } from "vitest";
import { resolveSchema } from "../../src/schema/refs.js";
import type { PredictorSchema } from "../../src/schema/types.js";
import { validateInput } from "../../src/schema/validate.js";
import { schemaView } from "../../src/schema/view.js";

const components = {
  Color: { title: "Color", type: "string", enum: ["red", "green"] },
  Alias: { $ref: "#/components/schemas/Color" },
};

describe("resolveSchema", () => {
  it("follows allOf:[{$ref}], chained $refs, and anyOf Optional[T], keeping the field's own keys", () => {
    expect(
      resolveSchema({ allOf: [{ $ref: "#/components/schemas/Alias" }], default: "red" }, components),
    ).toEqual({
      title: "Color",
      type: "string",
      enum: ["red", "green"],
      default: "red",
    });
    expect(
      resolveSchema({ anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }], title: "N" }, {}),
    ).toEqual({
      type: "integer",
      minimum: 1,
      title: "N",
      nullable: true,
    });
  });

  it("leaves unknown references and a cycle as they are", () => {
    const cyclic = { A: { $ref: "#/components/schemas/A" } };
    expect(resolveSchema({ $ref: "#/components/schemas/Missing" }, {})).toEqual({
      $ref: "#/components/schemas/Missing",
    });
    expect(() => resolveSchema({ $ref: "#/components/schemas/A" }, cyclic)).not.toThrow();
  });

  it("the server's validator and the CLI's view read an Optional[int] field the same way", () => {
    const schema: PredictorSchema = {
      input: {
        type: "object",
        properties: { n: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }], "x-order": 0 } },
      },
      output: { type: "string" },
      components: {},
    };
    expect(validateInput(schema, { n: null }).ok).toBe(true);
    const bad = validateInput(schema, { n: 0 });
    expect(bad.ok ? [] : bad.errors.map((e) => e.type)).toEqual(["greater_than_equal"]);
    const doc = { components: { schemas: { Input: schema.input, Output: schema.output } } };
    expect(schemaView(doc).byName.get("n")).toMatchObject({ kind: "integer", minimum: 1, nullable: true });
  });
});
