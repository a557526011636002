/**
 * hello-ts: kiln's TypeScript example. Three predictors in one module:
 *   predictor  greets someone (constrained inputs, optional file input), cog.yaml points at it
 *   banner     writes the greeting to a text file and returns it (a file output)
 *   stream     streams the greeting word by word (an async generator, concatenated by clients)
 */
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatenateIterator, definePredictor, file, fileOutput, z } from "kiln-ml";

const inputs = {
  name: z.string().max(40).default("world").describe("Who to greet"),
  times: z.int().min(1).max(5).default(1).describe("How many times to say it"),
  style: z.enum(["plain", "shout", "whisper"]).default("plain").describe("Tone of voice"),
  signature: file().optional().describe("A text file whose first line signs the greeting"),
};

let greetingWord = "";

async function greeting(input: {
  name: string;
  times: number;
  style: string;
  signature?: string | undefined;
}) {
  let text = Array.from({ length: input.times }, () => `${greetingWord}, ${input.name}!`).join(" ");
  if (input.style === "shout") text = text.toUpperCase();
  if (input.style === "whisper") text = text.toLowerCase();
  if (input.signature) {
    const first = (await readFile(input.signature, "utf8")).split("\n")[0]?.trim();
    if (first) text += ` -- ${first}`;
  }
  return text;
}

export const predictor = definePredictor({
  inputs,
  output: z.string(),
  setup() {
    // Real models load weights here; it runs once, before the first prediction.
    greetingWord = "Hello";
  },
  predict: async (input, ctx) => {
    ctx.log(`greeting ${input.name} ${input.times}x`);
    ctx.recordMetric("greetings", input.times);
    return greeting(input);
  },
});

export const banner = definePredictor({
  inputs,
  output: file().describe("The greeting as a text file"),
  setup() {
    greetingWord = "Hello";
  },
  predict: async (input, ctx) => {
    const path = join(tmpdir(), `greeting-${ctx.id}.txt`);
    await writeFile(path, `${await greeting(input)}\n`);
    return fileOutput(path);
  },
});

export const stream = definePredictor({
  inputs,
  output: concatenateIterator({ description: "The greeting, one word at a time" }),
  setup() {
    greetingWord = "Hello";
  },
  async *predict(input, ctx) {
    const words = (await greeting(input)).split(" ");
    for (const [i, word] of words.entries()) {
      if (ctx.signal.aborted) return;
      yield i === 0 ? word : ` ${word}`;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  },
});
