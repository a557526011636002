/**
 * kiln-specific input/output types built on zod: files, secrets, iterator outputs. They carry a marker
 * in zod metadata (which survives .describe(), .default(), .optional() ...) that the schema walker reads.
 */
import { z } from "zod";
import { Secret } from "./values.js";

/** Metadata key of kiln's markers. */
export const KIND_KEY = "x-kiln-kind";

/**
 * A file input (or output). As an input it accepts an http(s) URL or a data: URI; the server downloads
 * it and the predictor receives the local path. As an output, return a path string or fileOutput(path).
 */
export function file(): z.ZodString {
  return z.string().meta({ [KIND_KEY]: "file" });
}

/**
 * A secret input: arrives as a Secret (call .get() for the value); never logged or echoed back.
 * Give a default as `secret({ default: "..." })`: the schema shows a placeholder, not the value.
 */
export function secret(opts: { default?: string } = {}): z.ZodType<Secret, string> {
  const base = z
    .string()
    .transform((value) => new Secret(value))
    .meta({ [KIND_KEY]: "secret" });
  // prefault: the default goes through the transform, so predict() always gets a Secret.
  return opts.default === undefined
    ? base
    : (base.prefault(opts.default) as unknown as z.ZodType<Secret, string>);
}

/** The output of a predictor that streams items from an async generator. */
export class IteratorOutput<T extends z.ZodType = z.ZodType> {
  constructor(
    readonly item: T,
    readonly concatenate: boolean,
    readonly description?: string,
  ) {}
}

/** Streamed output: predict is an async generator yielding items of `item`. */
export function iterator<T extends z.ZodType>(
  item: T,
  opts: { description?: string } = {},
): IteratorOutput<T> {
  return new IteratorOutput(item, false, opts.description);
}

/** Streamed text meant to be joined (LLM tokens): clients display the chunks concatenated. */
export function concatenateIterator(opts: { description?: string } = {}): IteratorOutput<z.ZodString> {
  return new IteratorOutput(z.string(), true, opts.description);
}
