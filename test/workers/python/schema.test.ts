/**
 * Schema goldens: `kiln_worker.py --schema-only` for Cog-style predictors must produce exactly the stored
 * PredictorSchema (test/fixtures/python/<name>/schema.json). Regenerate on purpose with KILN_UPDATE_GOLDEN=1.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import type { LoadedMessage } from "../../../src/runtime/protocol.js";
import { canonicalize } from "../../../src/schema/fragments.js";
import { FIXTURES, schemaOnly } from "./harness.js";

const cases: { name: string; predictor?: string; train?: string }[] = [
  { name: "hello" },
  { name: "function", predictor: "predict.py:predict" },
  { name: "runner", predictor: "run.py:Runner" },
  { name: "inputs" },
  { name: "outputs-model" },
  { name: "outputs-list" },
  { name: "iterator" },
  { name: "concatenate" },
  { name: "async-iterator" },
  { name: "train", train: "train.py:train" },
];

describe("schema from the signature", () => {
  test.each(cases)("$name matches its golden schema.json", async ({ name, predictor, train }) => {
    const result = await schemaOnly({ root: name, predictor, train });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const loaded = JSON.parse(result.stdout) as LoadedMessage;
    expect(loaded.type).toBe("loaded");
    expect(loaded.protocol).toBe(1);
    const golden = path.join(FIXTURES, name, "schema.json");
    const actual = `${JSON.stringify(loaded.schema, null, 2)}\n`;
    if (process.env.KILN_UPDATE_GOLDEN === "1" || !existsSync(golden)) writeFileSync(golden, actual);
    // key order is part of the contract: both workers emit byte-identical documents
    expect(actual).toBe(readFileSync(golden, "utf8"));
    // same canonical key order as the TypeScript side (src/schema/fragments.ts)
    const parts = [loaded.schema.input, loaded.schema.output, ...Object.values(loaded.schema.components)];
    if (loaded.schema.train) parts.push(loaded.schema.train.input, loaded.schema.train.output);
    for (const part of parts) expect(JSON.stringify(part)).toBe(JSON.stringify(canonicalize(part)));
  });

  test("the inputs fixture covers every fragment kind", async () => {
    const { stdout } = await schemaOnly({ root: "inputs" });
    const { schema } = JSON.parse(stdout) as LoadedMessage;
    const props = schema.input.properties as Record<string, Record<string, unknown>>;
    expect(props.prompt).toEqual({
      "x-order": 0,
      title: "Prompt",
      type: "string",
      description: "Prompt",
      minLength: 1,
      maxLength: 20,
    });
    expect(props.code).toMatchObject({ pattern: "^[a-z]{3}$", default: "abc" });
    expect(props.steps).toMatchObject({ type: "integer", minimum: 1, maximum: 50, default: 10 });
    expect(props.scale).toMatchObject({ type: "number", minimum: 0, maximum: 2.5 });
    expect(props.scheduler).toEqual({
      "x-order": 5,
      allOf: [{ $ref: "#/components/schemas/scheduler" }],
      default: "DDIM",
      description: "Scheduler",
    });
    expect(schema.components.scheduler).toEqual({
      title: "scheduler",
      description: "An enumeration.",
      enum: ["DDIM", "K_EULER"],
      type: "string",
    });
    expect(schema.components.size).toMatchObject({ enum: [256, 512], type: "integer" });
    expect(schema.components.mode).toMatchObject({ enum: ["fast", "slow"], type: "string" });
    expect(props.seed).toMatchObject({ type: "integer", nullable: true });
    expect(props.seed).not.toHaveProperty("default");
    expect(props.tags).toMatchObject({ type: "array", items: { type: "string" }, default: [] });
    expect(props.image).toMatchObject({ type: "string", format: "uri" });
    expect(props.document).toMatchObject({ type: "string", format: "uri" });
    expect(props.images).toMatchObject({ type: "array", items: { type: "string", format: "uri" } });
    expect(props.api_key).toMatchObject({
      type: "string",
      format: "password",
      writeOnly: true,
      "x-cog-secret": true,
    });
    expect(props.extra).toMatchObject({ type: "object" });
    expect(props.anything).toEqual({
      "x-order": 16,
      title: "Anything",
      description: "Any JSON value",
      nullable: true, // default=None accepts an explicit null
    });
    expect(props.old).toMatchObject({ deprecated: true });
    expect(schema.input.required).toEqual(["prompt", "image", "api_key"]);
    expect(schema.output).toEqual({ title: "Output", type: "object" });
  });

  test("iterator outputs are arrays marked x-cog-array-type; concatenate adds x-cog-array-display", async () => {
    const concat = JSON.parse((await schemaOnly({ root: "concatenate" })).stdout) as LoadedMessage;
    expect(concat.schema.output).toEqual({
      title: "Output",
      type: "array",
      items: { type: "string" },
      "x-cog-array-type": "iterator",
      "x-cog-array-display": "concatenate",
    });
    const model = JSON.parse((await schemaOnly({ root: "outputs-model" })).stdout) as LoadedMessage;
    expect(model.schema.output).toEqual({
      title: "Output",
      type: "object",
      properties: {
        text: { title: "Text", type: "string" },
        length: { title: "Length", type: "integer" },
        file: { title: "File", type: "string", format: "uri" },
        note: { title: "Note", type: "string", nullable: true },
      },
      required: ["text", "length", "file"],
    });
  });

  test("user prints at import time do not corrupt the JSON on stdout", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-py-schema-"));
    writeFileSync(
      path.join(dir, "predict.py"),
      'print("noisy import")\nfrom cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return "x"\n',
    );
    const result = await schemaOnly({ root: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("noisy import\n");
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "loaded", async: false });
  });
});
