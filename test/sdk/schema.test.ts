import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApi } from "../../src/schema/openapi.js";
import type { PredictorRuntime } from "../../src/sdk/contract.js";
import {
  concatenateIterator,
  definePredictor,
  file,
  iterator,
  PredictorSchemaError,
  secret,
  z,
  type InputsSpec,
  type OutputSpec,
  type Predictor,
} from "../../src/sdk/index.js";
import { rich } from "./rich.js";

function runtimeOf<I extends InputsSpec, O extends OutputSpec>(p: Predictor<I, O>): PredictorRuntime {
  return p[Symbol.for("kiln.predictor")] as PredictorRuntime;
}
const schemaOf = <I extends InputsSpec, O extends OutputSpec>(p: Predictor<I, O>) => runtimeOf(p).schema();
const outputOf = (output: OutputSpec) =>
  schemaOf(definePredictor({ inputs: {}, output, predict: () => null as never })).output;

describe("predictor schema", () => {
  it("matches the golden OpenAPI document of a rich predictor", () => {
    const golden = readFileSync(join(import.meta.dirname, "golden/rich.openapi.json"), "utf8");
    const doc = buildOpenApi(schemaOf(rich), { kilnVersion: "0.0.0-test" });
    // Compared as compact JSON: whitespace may be reformatted, key order may not.
    expect(JSON.stringify(doc)).toBe(JSON.stringify(JSON.parse(golden)));
  });

  it("orders inputs by declaration (x-order) and titles them in Title Case", () => {
    const props = schemaOf(rich).input.properties as Record<string, Record<string, unknown>>;
    expect(Object.values(props).map((p) => p["x-order"])).toEqual([...Array(17).keys()]);
    expect(props.negative_prompt?.title).toBe("Negative Prompt");
    expect(props.custom?.title).toBe("Custom Title");
  });

  it("makes Cog's enum components for choices, string and integer", () => {
    const s = schemaOf(
      definePredictor({
        inputs: { i: z.literal([0, 1, 2]), i_wd: z.literal([0, 1, 2]).default(0), s: z.enum(["foo", "bar"]) },
        output: z.string(),
        predict: () => "",
      }),
    );
    expect(s.input.properties).toEqual({
      i: { allOf: [{ $ref: "#/components/schemas/i" }], "x-order": 0 },
      i_wd: { allOf: [{ $ref: "#/components/schemas/i_wd" }], default: 0, "x-order": 1 },
      s: { allOf: [{ $ref: "#/components/schemas/s" }], "x-order": 2 },
    });
    expect(s.input.required).toEqual(["i", "s"]);
    expect(s.components.i).toEqual({
      title: "i",
      description: "An enumeration.",
      enum: [0, 1, 2],
      type: "integer",
    });
    expect(s.components.s).toEqual({
      title: "s",
      description: "An enumeration.",
      enum: ["foo", "bar"],
      type: "string",
    });
  });

  it("describes secrets without leaking their defaults", () => {
    const s = schemaOf(
      definePredictor({
        inputs: { s1: secret(), s2: secret({ default: "hunter2" }) },
        output: z.string(),
        predict: () => "",
      }),
    );
    expect(s.input.properties).toEqual({
      s1: {
        type: "string",
        format: "password",
        writeOnly: true,
        "x-cog-secret": true,
        title: "S1",
        "x-order": 0,
      },
      s2: {
        type: "string",
        format: "password",
        writeOnly: true,
        "x-cog-secret": true,
        title: "S2",
        default: "**********",
        "x-order": 1,
      },
    });
    expect(JSON.stringify(s)).not.toContain("hunter2");
  });

  it("describes files and lists of files like Cog's Path", () => {
    const s = schemaOf(
      definePredictor({
        inputs: { p1: file(), ps: z.array(file()).default(["a.txt"]) },
        output: file(),
        predict: () => "",
      }),
    );
    expect(s.input.properties).toEqual({
      p1: { type: "string", format: "uri", title: "P1", "x-order": 0 },
      ps: {
        type: "array",
        items: { type: "string", format: "uri" },
        title: "Ps",
        default: ["a.txt"],
        "x-order": 1,
      },
    });
    expect(s.output).toEqual({ type: "string", format: "uri", title: "Output" });
  });

  it("marks iterator and concatenate-iterator outputs", () => {
    expect(outputOf(iterator(file()))).toEqual({
      type: "array",
      items: { type: "string", format: "uri" },
      title: "Output",
      "x-cog-array-type": "iterator",
    });
    expect(outputOf(concatenateIterator())).toEqual({
      type: "array",
      items: { type: "string" },
      title: "Output",
      "x-cog-array-type": "iterator",
      "x-cog-array-display": "concatenate",
    });
  });

  it("describes object outputs as models and lists as arrays", () => {
    expect(
      outputOf(z.object({ text: z.string(), score: z.number().optional(), files: z.array(file()) })),
    ).toEqual({
      type: "object",
      properties: {
        text: { type: "string", title: "Text" },
        score: { type: "number", title: "Score", nullable: true },
        files: { type: "array", items: { type: "string", format: "uri" }, title: "Files" },
      },
      required: ["text", "files"],
      title: "Output",
    });
    expect(outputOf(z.array(z.int()))).toEqual({
      type: "array",
      items: { type: "integer" },
      title: "Output",
    });
    expect(outputOf(z.any())).toEqual({ title: "Output" });
    expect(outputOf(z.boolean().describe("ok?"))).toEqual({
      type: "boolean",
      title: "Output",
      description: "ok?",
    });
  });

  it("accepts a z.object as inputs", () => {
    const s = schemaOf(
      definePredictor({ inputs: z.object({ a: z.string() }), output: z.string(), predict: ({ a }) => a }),
    );
    expect(s.input.required).toEqual(["a"]);
  });

  it("names the input and the reason when a type is unsupported", () => {
    expect(() =>
      definePredictor({ inputs: { when: z.date() }, output: z.string(), predict: () => "" }),
    ).toThrow(
      new PredictorSchemaError(
        "input 'when': zod type 'date' is not supported (use string, number, int, boolean, enum, literal, array, object, file(), secret())",
      ),
    );
    expect(() =>
      definePredictor({ inputs: { mixed: z.literal(["a", 1]) }, output: z.string(), predict: () => "" }),
    ).toThrow(/input 'mixed': choices must be all strings or all numbers/);
  });
});
