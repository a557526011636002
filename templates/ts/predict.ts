// The model's prediction interface: inputs and output are declared with zod, and kiln derives the
// HTTP API and its OpenAPI schema from them. Try it: kiln predict -i prompt="hello" -i repeat=3
import { z, definePredictor } from "kiln-ml";

export const predictor = definePredictor({
  inputs: {
    prompt: z.string().min(1).max(1000).describe("Text to transform").default("hello from kiln"),
    repeat: z.number().int().min(1).max(10).describe("How many times to repeat the text").default(1),
    shout: z.boolean().describe("Upper-case the result").default(false),
  },
  output: z.string(),

  // Runs once when the server starts, before the first prediction: load your model here.
  async setup(ctx) {
    ctx.log(`weights: ${ctx.weights ?? "none"}`);
  },

  // Runs one prediction; ctx.signal is aborted when the prediction is canceled.
  async predict({ prompt, repeat, shout }, ctx) {
    ctx.log(`repeating ${repeat} time(s)`);
    const text = Array.from({ length: repeat }, () => prompt).join(" ");
    return shout ? text.toUpperCase() : text;
  },
});
