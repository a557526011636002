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
      // Loaded on use: other commands (and --help) should not pay for Docker and runtime modules. The
      // import starts before the flags are checked, so the two overlap; a flag error still comes first.
      const session = import("../../session/predict.js");
      session.catch(() => undefined); // awaited below, unless the flags are refused
      const options = await requestOptions(ctx, imageArg, flags, cmd, "predict");
      const { runPredict } = await session;
      await runPredict(ctx, options);
    });
}
