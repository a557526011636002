/**
 * The flags `kiln predict` and `kiln train` share (-i, --json, -o, -e, --setup-timeout, plus the model
 * source flags) and their parsing: one request to the model, its inputs checked for syntax before any
 * build or container start.
 */
import type { Command } from "commander";
import type { RawInputs } from "../prediction/inputs.js";
import type { ModelSourceOptions } from "../session/model-source.js";
import type { CommandContext } from "./context.js";
import { checkImageArgument, collect, parseEnvFlags, parseSeconds } from "./flags.js";
import {
  addImageOptions,
  addModelSourceOptions,
  modelSourceOptions,
  type ModelSourceFlags,
} from "./image-options.js";

export interface RequestFlags extends ModelSourceFlags {
  input: string[];
  json?: string;
  output?: string;
  env: string[];
  setupTimeout: string;
}

/** What runPredict/runTrain take, from those flags. */
export interface RequestOptions extends ModelSourceOptions {
  inputs: RawInputs;
  json: boolean;
  output: string | undefined;
  env: Record<string, string>;
  setupTimeoutMs: number;
  python: string;
}

/** Adds the shared flags; `noun` ("prediction", "training") and `output` word the help. */
export function addRequestOptions(command: Command, noun: string, output: string): Command {
  return addModelSourceOptions(addImageOptions(command, "when building: "))
    .option("-i, --input <name=value>", "an input; @path sends a file; repeat a name for a list", collect, [])
    .option("--json <json>", `all inputs as JSON, or @file, or - for stdin; prints the whole ${noun} as JSON`)
    .option("-o, --output <path>", output)
    .option("-e, --env <NAME=value>", "environment variable for the model (repeatable)", collect, [])
    .option("--setup-timeout <seconds>", "how long to wait for setup() to finish", "300");
}

/** Checks the flags (everything that needs no schema) before anything slow starts. */
export async function requestOptions(
  ctx: CommandContext,
  imageArg: string | undefined,
  flags: RequestFlags,
  cmd: Command,
): Promise<RequestOptions> {
  // --json prints the whole prediction or training as one document; manifest warnings go into it.
  if (flags.json !== undefined) ctx.out.jsonDocument = true;
  const image = checkImageArgument(imageArg);
  const env = parseEnvFlags(flags.env);
  const setupTimeoutMs = parseSeconds(flags.setupTimeout, "--setup-timeout");
  // Loaded on use: other commands (and --help) should not pay for the input parser.
  const { parseInputArgs } = await import("../prediction/inputs.js");
  const inputs = await parseInputArgs(flags.input, flags.json, { cwd: ctx.cwd, readStdin });
  return {
    ...modelSourceOptions(ctx, image, flags, cmd),
    inputs,
    json: flags.json !== undefined,
    output: flags.output,
    env,
    setupTimeoutMs,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
