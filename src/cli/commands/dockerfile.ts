import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions, type ImageFlags } from "../image-options.js";
import { manifestFlag } from "../flags.js";
import { loadManifestForCommand } from "../load-manifest.js";

interface DockerfileFlags extends ImageFlags {
  context?: boolean;
  caCert?: string;
  weights?: string;
}

export function registerDockerfile(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("dockerfile"), "")
    .description("print the Dockerfile that `kiln build` would use")
    .option("--context", "also list the build context (files and sizes)")
    .option("--ca-cert <file>", "extra CA certificate trusted by apt/pip/npm during the build")
    .option("--weights <path>", "as `kiln build --weights`: trained weights in their own layer")
    .action(async (flags: DockerfileFlags, cmd: Command) => {
      const ctx = context();
      const { manifest } = await loadManifestForCommand(ctx, manifestFlag(cmd));
      const { showDockerfile } = await import("../../publish/dockerfile.js");
      await showDockerfile(ctx, { manifest, ...flags });
    });
}
