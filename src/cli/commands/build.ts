import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { formatBytes } from "../../build/plan.js";
import { taggedName } from "../../docker/reference.js";
import { UsageError, formatProblem } from "../../errors.js";
import type { ResolvedManifest } from "../../manifest/types.js";
import type { ProgressMode } from "../build-progress.js";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";

interface BuildFlags {
  tag?: string;
  cache: boolean;
  progress: ProgressMode;
  secret?: string[];
  caCert?: string;
  baseImage?: string;
  nodeImage?: string;
  platform?: string;
  push?: boolean;
  cacheFrom?: string[];
  cacheTo?: string;
  openapiSchema?: string;
  typecheck: boolean;
  json?: boolean;
}

export async function loadProjectManifest(
  context: CommandContext,
  file: string | undefined,
): Promise<ResolvedManifest> {
  const { loadManifest } = await import("../../manifest/load.js");
  const { manifest, warnings } = await loadManifest({ cwd: context.cwd, ...(file ? { file } : {}) });
  for (const w of warnings) context.out.warn(formatProblem(w));
  return manifest;
}

/** --secret id=NAME,src=FILE | id=NAME,env=VAR, checked before anything slow starts. */
export function checkSecretSpec(spec: string): string {
  const fields = Object.fromEntries(
    spec.split(",").map((kv) => kv.split("=", 2) as [string, string | undefined]),
  );
  if (!fields.id || (!fields.src && !fields.env && !fields.source)) {
    throw new UsageError(
      `--secret ${spec}: expected id=NAME,src=FILE or id=NAME,env=VAR`,
      "e.g. --secret id=hf_token,env=HF_TOKEN",
    );
  }
  return spec;
}

export function registerBuild(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("build"), "")
    .description("build the model's image")
    .option("-t, --tag <image>", "image name (default: `image` in cog.yaml, else kiln-<dirname>)")
    .option("--no-cache", "build without the layer cache")
    .addOption(
      new Option("--progress <mode>", "progress output")
        .choices(["auto", "plain", "quiet", "json"])
        .default("auto"),
    )
    .option("--secret <spec...>", "build secret: id=NAME,src=FILE or id=NAME,env=VAR (repeatable)")
    .option("--ca-cert <file>", "extra CA certificate trusted by apt/pip/npm during the build")
    .option("--platform <platform>", "target platform, e.g. linux/amd64")
    .option("--push", "push the image after building (-t must name a registry); prints name@sha256:...")
    .option("--cache-from <ref...>", "registry image to reuse cached layers from")
    .option("--cache-to <ref>", "registry image to export the build cache to")
    .option("--openapi-schema <file>", "use this OpenAPI document instead of computing it")
    .option("--no-typecheck", "skip the type check of TypeScript predictors")
    .option("--json", "print a machine-readable result (image id, digest, labels, timings)")
    .action(async (flags: BuildFlags, cmd: Command) => {
      const ctx = context();
      const secrets = (flags.secret ?? []).map(checkSecretSpec);
      const manifest = await loadProjectManifest(ctx, (cmd.optsWithGlobals() as { file?: string }).file);
      // Loaded on use: building and pushing pull in the Docker client, which --help and other commands
      // should not pay for.
      const { pushAndReport, resolvePushTarget } = await import("../push-run.js");
      // --push: -t (or `image:` in cog.yaml) must name a registry, checked before anything slow.
      const target = flags.push ? resolvePushTarget(flags.tag, manifest) : undefined;
      if (flags.json) ctx.out.options.json = true;
      const { buildImage } = await import("../../build/image.js");
      const { assertCacheToSupported } = await import("../../docker/build.js");
      await assertCacheToSupported(flags.cacheTo);
      const { getCredentials } = await import("../../docker/credentials.js");
      const credentials = target ? await getCredentials(target.registry) : undefined;
      const { createBuildProgress } = await import("../build-progress.js");
      const progress = createBuildProgress(ctx.out, flags.json && target ? "quiet" : flags.progress);
      let ok = false;
      try {
        const result = await buildImage(manifest, {
          tag: target ? taggedName(target) : flags.tag,
          noCache: !flags.cache,
          secrets,
          caCertFile: flags.caCert === undefined ? undefined : resolve(ctx.cwd, flags.caCert),
          baseImage: flags.baseImage,
          nodeImage: flags.nodeImage,
          platform: flags.platform,
          cacheFrom: flags.cacheFrom,
          cacheTo: flags.cacheTo,
          // Pushed images carry inline cache metadata so a later `--cache-from <image>` can reuse them.
          inlineCache: target !== undefined,
          // Relative to the command's working directory (not the process's: tests run kiln in-process).
          openapiSchemaFile:
            flags.openapiSchema === undefined ? undefined : resolve(ctx.cwd, flags.openapiSchema),
          typecheck: flags.typecheck,
          onEvent: progress.onEvent,
          signal: ctx.signal,
        });
        ok = true;
        progress.stop(true);
        if (target) {
          if (!flags.json)
            ctx.out.info(`Built ${result.image} in ${(result.timings.totalMs / 1000).toFixed(1)}s`);
          await pushAndReport(ctx, target, {
            credentials,
            json: Boolean(flags.json),
            depsImage: result.depsImage,
            extra: { build: result },
          });
          return;
        }
        if (flags.json) {
          ctx.out.json(result);
          return;
        }
        const secs = (result.timings.totalMs / 1000).toFixed(1);
        ctx.out.print(`Built ${result.image} (${result.imageId.slice(0, 19)}) in ${secs}s`);
        ctx.out.info(
          `  image ${formatBytes(result.sizeBytes)}, ${result.layers.length} layers; context sent ${formatBytes(result.contextBytes)}`,
        );
      } finally {
        if (!ok) progress.stop(false);
      }
    });
}
