import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { checkImageArgument, collect, parseEnvFlags, parseSeconds, readStdin } from "../flags.js";
import {
  addImageOptions,
  addModelSourceOptions,
  modelSourceOptions,
  type ModelSourceFlags,
} from "../image-options.js";

interface TrainFlags extends ModelSourceFlags {
  input: string[];
  json?: string;
  output?: string;
  env: string[];
  setupTimeout: string;
}

export function registerTrain(program: Command, context: () => CommandContext): void {
  addModelSourceOptions(addImageOptions(program.command("train"), "when building: "))
    .description(
      "run one training with the project's `train:` entry (builds the image unless IMAGE is given) and write the weights to a file",
    )
    .argument("[image]", "an existing kiln or Cog image with a trainer")
    .option(
      "-i, --input <name=value>",
      "a training input; @path sends a file; repeat a name for a list",
      collect,
      [],
    )
    .option(
      "--json <json>",
      "all inputs as JSON, or @file, or - for stdin; prints the whole training as JSON",
    )
    .option("-o, --output <path>", "where to write the trained weights (default: ./weights, as with Cog)")
    .option("-e, --env <NAME=value>", "environment variable for the model (repeatable)", collect, [])
    .option("--setup-timeout <seconds>", "how long to wait for setup() to finish", "300")
    .action(async (imageArg: string | undefined, flags: TrainFlags, cmd: Command) => {
      const ctx = context();
      const image = checkImageArgument(imageArg);
      const env = parseEnvFlags(flags.env);
      const setupTimeoutMs = parseSeconds(flags.setupTimeout, "--setup-timeout");
      const { parseInputArgs } = await import("../../prediction/inputs.js");
      // Input syntax is checked before any build or container start, as for predict.
      const inputs = await parseInputArgs(flags.input, flags.json, { cwd: ctx.cwd, readStdin });
      const { runTrain } = await import("../../session/train.js");
      await runTrain(ctx, {
        ...modelSourceOptions(ctx, image, flags, cmd),
        inputs,
        json: flags.json !== undefined,
        output: flags.output,
        env,
        setupTimeoutMs,
      });
    });
}
