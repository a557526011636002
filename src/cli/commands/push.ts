import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import type { CommandContext } from "../context.js";
import { manifestFlag, progressOption } from "../flags.js";
import { addImageOptions, type ImageFlags } from "../image-options.js";
import { loadOptionalManifest } from "../load-manifest.js";

interface PushFlags extends ImageFlags {
  json?: boolean;
  build: boolean;
  progress: ProgressMode;
  openapiSchema?: string;
  weights?: string;
}

export function registerPush(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("push"), "build: ")
    .description("build (cached) and push the image to an OCI registry; prints the pinned name@sha256:...")
    .argument("[image]", "destination (default: `image` in cog.yaml)")
    .option("--json", "print a machine-readable result")
    .option("--no-build", "push the existing local image instead of building it first")
    .addOption(progressOption("build progress output"))
    .option("--openapi-schema <file>", "build: use this OpenAPI document instead of computing it")
    .option("--weights <path>", "build: bake in trained weights (as `kiln build --weights`)")
    .action(async (image: string | undefined, flags: PushFlags, cmd: Command) => {
      const ctx = context();
      if (flags.json) ctx.out.jsonDocument = true;
      // --no-build IMAGE needs no cog.yaml; otherwise one is used when there is one.
      const manifest =
        !flags.build && image !== undefined ? undefined : await loadOptionalManifest(ctx, manifestFlag(cmd));
      // Loaded on use: building and pushing pull in the Docker client, which other commands should not pay for.
      const { runPush } = await import("../../publish/push.js");
      await runPush(ctx, {
        image,
        manifest,
        json: Boolean(flags.json),
        build: flags.build,
        progress: flags.progress,
        openapiSchema: flags.openapiSchema,
        baseImage: flags.baseImage,
        nodeImage: flags.nodeImage,
        weights: flags.weights,
      });
    });
}
