import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addRequestOptions, requestOptions, type RequestFlags } from "../request-options.js";

export function registerPredict(program: Command, context: () => CommandContext): void {
  addRequestOptions(program.command("predict").alias("run"), "prediction", "where to write a file output")
    .description(
      "run one prediction (builds the image unless IMAGE is given); `kiln run` is the same, as in Cog 0.17+",
    )
    .argument("[image]", "an existing kiln or Cog image (name, name:tag or name@sha256:...)")
    .action(async (imageArg: string | undefined, flags: RequestFlags, cmd: Command) => {
      const ctx = context();
      const options = await requestOptions(ctx, imageArg, flags, cmd);
      // Loaded on use: other commands (and --help) should not pay for Docker and runtime modules.
      const { runPredict } = await import("../../session/predict.js");
      await runPredict(ctx, options);
    });
}
