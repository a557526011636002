/** The TypeScript twin of train_parity.py, written with defineTrainer (output left to its default). */
import { definePredictor, defineTrainer, file, z } from "kiln-ml";

export const predictor = definePredictor({
  inputs: { text: z.string() },
  output: z.string(),
  predict: ({ text }) => text,
});

export const trainer = defineTrainer({
  inputs: {
    data: file().describe("Training data"),
    epochs: z.int().min(1).max(50).default(1).describe("Passes over the data"),
    rate: z.number().default(0.0001),
  },
  train: ({ data }) => ({ weights: data }),
});
