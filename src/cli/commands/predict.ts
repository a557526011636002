import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { checkImageArgument, collect, parseEnvFlags, parseSeconds } from "../flags.js";
import {
  addImageOptions,
  addModelSourceOptions,
  modelSourceOptions,
  type ModelSourceFlags,
} from "../image-options.js";

interface PredictFlags extends ModelSourceFlags {
  input: string[];
  json?: string;
  output?: string;
  env: string[];
  setupTimeout: string;
}

export function registerPredict(program: Command, context: () => CommandContext): void {
  addModelSourceOptions(addImageOptions(program.command("predict").alias("run"), "when building: "))
    .description(
      "run one prediction (builds the image unless IMAGE is given); `kiln run` is the same, as in Cog 0.17+",
    )
    .argument("[image]", "an existing kiln or Cog image (name, name:tag or name@sha256:...)")
    .option("-i, --input <name=value>", "an input; @path sends a file; repeat a name for a list", collect, [])
    .option(
      "--json <json>",
      "all inputs as JSON, or @file, or - for stdin; prints the whole prediction as JSON",
    )
    .option("-o, --output <path>", "where to write a file output")
    .option("-e, --env <NAME=value>", "environment variable for the model (repeatable)", collect, [])
    .option("--setup-timeout <seconds>", "how long to wait for setup() to finish", "300")
    .action(async (imageArg: string | undefined, flags: PredictFlags, cmd: Command) => {
      const ctx = context();
      // --json prints the whole prediction as one document; manifest warnings go into it.
      if (flags.json !== undefined) ctx.out.jsonDocument = true;
      const image = checkImageArgument(imageArg);
      const env = parseEnvFlags(flags.env);
      const setupTimeoutMs = parseSeconds(flags.setupTimeout, "--setup-timeout");
      // Loaded on use: other commands (and --help) should not pay for Docker and runtime modules.
      const { parseInputArgs } = await import("../../prediction/inputs.js");
      // Everything that needs no schema is checked before any build or container start.
      const inputs = await parseInputArgs(flags.input, flags.json, { cwd: ctx.cwd, readStdin });
      const { runPredict } = await import("../../session/predict.js");
      await runPredict(ctx, {
        ...modelSourceOptions(ctx, image, flags, cmd),
        inputs,
        json: flags.json !== undefined,
        output: flags.output,
        env,
        setupTimeoutMs,
      });
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
