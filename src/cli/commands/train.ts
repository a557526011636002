import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addRequestOptions, requestOptions, type RequestFlags } from "../request-options.js";

export function registerTrain(program: Command, context: () => CommandContext): void {
  addRequestOptions(
    program.command("train"),
    "training",
    "where to write the trained weights (default: ./weights, as with Cog)",
  )
    .description(
      "run one training with the project's `train:` entry (builds the image unless IMAGE is given) and write the weights to a file",
    )
    .argument("[image]", "an existing kiln or Cog image with a trainer")
    .action(async (imageArg: string | undefined, flags: RequestFlags, cmd: Command) => {
      const ctx = context();
      const options = await requestOptions(ctx, imageArg, flags, cmd);
      const { runTrain } = await import("../../session/train.js");
      await runTrain(ctx, options);
    });
}
