/** The TypeScript twin of parity_predict.py: the same signature, written with kiln's SDK. */
import { definePredictor, file, secret, z } from "kiln-ml";

export const predictor = definePredictor({
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
