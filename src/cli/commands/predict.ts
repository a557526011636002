import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import type { PredictOptions } from "../predict-run.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerPredict(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("predict").alias("run"), "when building: ")
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
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .option("--progress <mode>", "build progress: auto, plain, quiet", "auto")
    .action(async (image: string | undefined, _opts: unknown, command: Command) => {
      // Loaded on use: other commands (and --help) should not pay for Docker and runtime modules.
      const { runPredict } = await import("../predict-run.js");
      await runPredict(context(), image, command.optsWithGlobals<PredictOptions>());
    });
}
