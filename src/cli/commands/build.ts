import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import { formatBytes } from "../../format.js";
import type { CommandContext } from "../context.js";
import { checkSecretSpec, manifestFlag, progressOption } from "../flags.js";
import { addImageOptions, type ImageFlags } from "../image-options.js";
import { loadManifestForCommand } from "../load-manifest.js";

interface BuildFlags extends ImageFlags {
  tag?: string;
  cache: boolean;
  progress: ProgressMode;
  secret?: string[];
  caCert?: string;
  platform?: string;
  push?: boolean;
  cacheFrom?: string[];
  cacheTo?: string;
  openapiSchema?: string;
  typecheck: boolean;
  weights?: string;
  json?: boolean;
}

export function registerBuild(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("build"), "")
    .description("build the model's image")
    .option("-t, --tag <image>", "image name (default: `image` in cog.yaml, else kiln-<dirname>)")
    .option("--no-cache", "build without the layer cache")
    .addOption(progressOption("progress output"))
    .option("--secret <spec...>", "build secret: id=NAME,src=FILE or id=NAME,env=VAR (repeatable)")
    .option("--ca-cert <file>", "extra CA certificate trusted by apt/pip/npm during the build")
    .option("--platform <platform>", "target platform, e.g. linux/amd64")
    .option("--push", "push the image after building (-t must name a registry); prints name@sha256:...")
    .option("--cache-from <ref...>", "registry image to reuse cached layers from")
    .option("--cache-to <ref>", "registry image to export the build cache to")
    .option("--openapi-schema <file>", "use this OpenAPI document instead of computing it")
    .option("--no-typecheck", "skip the type check of TypeScript predictors")
    .option(
      "--weights <path>",
      "bake trained weights (a file or directory, e.g. from `kiln train`) in; setup() gets them as COG_WEIGHTS",
    )
    .option("--json", "print a machine-readable result (image id, digest, labels, timings)")
    .action(async (flags: BuildFlags, cmd: Command) => {
      const ctx = context();
      const secrets = (flags.secret ?? []).map(checkSecretSpec);
      const json = Boolean(flags.json);
      if (json) ctx.out.options.json = ctx.out.jsonDocument = true;
      const { manifest } = await loadManifestForCommand(ctx, manifestFlag(cmd));
      // Loaded on use: building pulls in the Docker client, which --help and other commands should not pay for.
      const { runBuild } = await import("../../publish/build.js");
      const result = await runBuild(ctx, {
        manifest,
        tag: flags.tag,
        noCache: !flags.cache,
        secrets,
        caCert: flags.caCert,
        baseImage: flags.baseImage,
        nodeImage: flags.nodeImage,
        platform: flags.platform,
        push: Boolean(flags.push),
        cacheFrom: flags.cacheFrom,
        cacheTo: flags.cacheTo,
        openapiSchema: flags.openapiSchema,
        typecheck: flags.typecheck,
        weights: flags.weights,
        json,
        progress: flags.progress,
      });
      if (flags.push) return; // runBuild reported the push (pinned name or --json document)
      if (json) {
        ctx.out.json(result);
        return;
      }
      const secs = (result.timings.totalMs / 1000).toFixed(1);
      ctx.out.print(`Built ${result.image} (${result.imageId.slice(0, 19)}) in ${secs}s`);
      ctx.out.info(
        `  image ${formatBytes(result.sizeBytes)}, ${result.layers.length} layers; context sent ${formatBytes(result.contextBytes)}`,
      );
    });
}
