/** The schema diff's classification, one rule at a time. */
import { describe, expect, it } from "vitest";
import { diffModels, type Change } from "../../src/client-gen/diff.js";
import { clientModel } from "../../src/client-gen/model.js";

const FACTS = { model: "a/b", version: "v1", source: "x", baseUrl: null };

function model(input: Record<string, unknown>, output: Record<string, unknown>, required: string[] = []) {
  return clientModel(
    { components: { schemas: { Input: { type: "object", properties: input, required }, Output: output } } },
    FACTS,
  );
}

const pick = (changes: Change[]): string[] => changes.map((c) => `${c.severity} ${c.where}: ${c.text}`);

describe("diffModels", () => {
  it("finds nothing between identical interfaces", () => {
    const m = model({ a: { type: "integer", minimum: 1 } }, { type: "string" });
    expect(diffModels(m, m)).toEqual([]);
  });

  it("widening integer -> number and dropping a pattern are compatible; number -> integer breaks", () => {
    const a = model({ n: { type: "integer" }, s: { type: "string", pattern: "^a" } }, { type: "string" });
    const b = model({ n: { type: "number" }, s: { type: "string" } }, { type: "string" });
    expect(pick(diffModels(a, b))).toEqual([
      "compatible input `n`: type integer -> number (accepts more)",
      "compatible input `s`: pattern ^a -> (none)",
    ]);
    expect(pick(diffModels(b, a))).toEqual([
      "breaking input `n`: type number -> integer",
      "breaking input `s`: pattern (none) -> ^a",
    ]);
  });

  it("an exclusive bound at the same value is tighter", () => {
    const a = model({ x: { type: "number", minimum: 0 } }, {});
    const b = model({ x: { type: "number", minimum: 0, exclusiveMinimum: true } }, {});
    expect(pick(diffModels(a, b))).toEqual(["breaking input `x`: minimum >= 0 -> > 0"]);
  });

  it("output shape changes break: single -> stream, new field types, nullable output", () => {
    const single = model({}, { type: "string" });
    const stream = model({}, { type: "array", items: { type: "string" }, "x-cog-array-type": "iterator" });
    expect(pick(diffModels(single, stream))).toContain(
      "breaking output: was a single value, is now a stream",
    );
    const obj1 = model({}, { type: "object", properties: { a: { type: "string" } }, required: ["a"] });
    const obj2 = model(
      {},
      { type: "object", properties: { a: { type: "integer" }, b: { type: "string" } }, required: ["a"] },
    );
    expect(pick(diffModels(obj1, obj2))).toEqual([
      "breaking output field `a`: type string -> integer",
      "compatible output field `b`: added",
    ]);
    expect(pick(diffModels(single, model({}, { type: "string", nullable: true })))).toEqual([
      "breaking output: may now be null",
    ]);
  });

  it("optional -> required breaks, required -> defaulted is compatible, version changes are notes", () => {
    const a = model({ p: { type: "string" } }, {}, []);
    const b = clientModel(
      {
        components: {
          schemas: { Input: { type: "object", properties: { p: { type: "string" } }, required: ["p"] } },
        },
      },
      { ...FACTS, version: "v2" },
    );
    expect(pick(diffModels(a, b))).toEqual(["breaking input `p`: now required", "note version: v1 -> v2"]);
    expect(pick(diffModels(b, a))).toEqual([
      "compatible input `p`: no longer required",
      "note version: v2 -> v1",
    ]);
  });
});
