import { Option, type Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import type { PushOptions } from "../../publish/push.js";

export function registerPush(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("push"), "build: ")
    .description("build (cached) and push the image to an OCI registry; prints the pinned name@sha256:...")
    .argument("[image]", "destination (default: `image` in cog.yaml)")
    .option("--json", "print a machine-readable result")
    .option("--no-build", "push the existing local image instead of building it first")
    .addOption(
      new Option("--progress <mode>", "build progress output")
        .choices(["auto", "plain", "quiet", "json"])
        .default("auto"),
    )
    .option("--openapi-schema <file>", "build: use this OpenAPI document instead of computing it")
    .action(async (image: string | undefined, opts: PushOptions, cmd: Command) => {
      const file = (cmd.optsWithGlobals() as { file?: string }).file;
      // Loaded on use: building and pushing pull in the Docker client, which other commands should not pay for.
      const { runPush } = await import("../../publish/push.js");
      await runPush(context(), image, { ...opts, file });
    });
}
