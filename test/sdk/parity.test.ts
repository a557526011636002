import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApi } from "../../src/schema/openapi.js";
import type { PredictorSchema } from "../../src/schema/types.js";
import type { PredictorRuntime } from "../../src/sdk/contract.js";
import { definePredictor, file, secret, z } from "../../src/sdk/index.js";

/**
 * The TS twin of golden/parity_predict.py. golden/parity.python-schema.json is what the Python worker
 * reported for that file (`kiln_worker.py --predictor parity_predict.py:Predictor --schema-only`, the
 * `schema` field); re-capture it when the Python schema rules change on purpose.
 */
const twin = definePredictor({
  inputs: {
    prompt: z.string().min(1).max(100).describe("Input prompt"),
    negative_prompt: z.string().optional().describe("What to avoid"),
    num_outputs: z.int().min(1).max(4).default(1).describe("Number of images"),
    guidance_scale: z.number().min(1).max(20).default(7.5),
    scheduler: z.enum(["DDIM", "K_EULER"]).default("K_EULER").describe("Scheduler"),
    image: file().describe("Input image"),
    api_key: secret().describe("API key"),
    seed: z.int().optional(),
    tags: z.array(z.string()).default([]),
    legacy: z.boolean().default(false).meta({ deprecated: true }),
    slug: z
      .string()
      .regex(/^[a-z]+$/)
      .default("abc"),
  },
  output: z.array(file()),
  predict: () => [],
});

describe("TypeScript and Python predictors", () => {
  it("produce byte-identical OpenAPI documents for the same signature", () => {
    const python = JSON.parse(
      readFileSync(join(import.meta.dirname, "golden/parity.python-schema.json"), "utf8"),
    ) as PredictorSchema;
    const ts = (twin as unknown as Record<symbol, PredictorRuntime>)[Symbol.for("kiln.predictor")]!.schema();
    const opts = { kilnVersion: "0.0.0" };
    expect(JSON.stringify(buildOpenApi(ts, opts))).toBe(JSON.stringify(buildOpenApi(python, opts)));
  });
});
