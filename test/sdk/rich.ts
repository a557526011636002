/** A predictor using every input kind, shared by the golden-schema test. */
import { definePredictor, file, secret, z } from "../../src/sdk/index.js";

export const rich = definePredictor({
  inputs: {
    prompt: z.string().min(1).max(100).describe("Input prompt"),
    negative_prompt: z.string().optional().describe("What to avoid"),
    num_outputs: z.int().min(1).max(4).default(1).describe("Number of images"),
    guidance_scale: z.number().min(1).max(20).default(7.5),
    strength: z.number().gt(0).lt(1).default(0.5),
    scheduler: z.enum(["DDIM", "K_EULER"]).default("K_EULER").describe("Scheduler"),
    size: z.literal([512, 768]).default(512),
    image: file().describe("Input image"),
    masks: z.array(file()).optional(),
    api_key: secret().describe("API key"),
    seed: z.int().optional(),
    tags: z.array(z.string().max(10)).max(3).default([]),
    extra: z.record(z.string(), z.unknown()).optional(),
    legacy: z.boolean().default(false).meta({ deprecated: true }),
    slug: z
      .string()
      .regex(/^[a-z]+$/)
      .default("abc"),
    custom: z.string().default("x").meta({ title: "Custom Title" }),
    maybe: z.string().nullable(),
  },
  output: z.array(file()),
  predict: () => [],
});
