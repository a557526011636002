/** `kiln build` once its flags are parsed: build the image and, with --push, push it. Loaded on use. */
import { resolve } from "node:path";
import type { BuildImageResult } from "../build/image.js";
import type { ProgressMode, RunContext } from "../context.js";
import { taggedName } from "../docker/reference.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { pushAndReport, resolvePushTarget } from "./push.js";

export interface BuildCommandOptions {
  manifest: ResolvedManifest;
  tag?: string | undefined;
  noCache: boolean;
  /** --secret specs, already checked. */
  secrets: string[];
  caCert?: string | undefined;
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  platform?: string | undefined;
  push: boolean;
  cacheFrom?: string[] | undefined;
  cacheTo?: string | undefined;
  openapiSchema?: string | undefined;
  /** Type-check TypeScript predictors first (`--no-typecheck` turns it off). */
  typecheck?: boolean | undefined;
  /** --weights PATH: trained weights (from `kiln train`) for a new version. */
  weights?: string | undefined;
  json: boolean;
  progress: ProgressMode;
}

/** Returns the build result; with `push` the image is pushed and reported (pinned name or --json) too. */
export async function runBuild(ctx: RunContext, opts: BuildCommandOptions): Promise<BuildImageResult> {
  const { manifest } = opts;
  // --push: -t (or `image:` in cog.yaml) must name a registry, checked before anything slow.
  const target = opts.push ? resolvePushTarget(opts.tag, manifest) : undefined;
  const { buildImage } = await import("../build/image.js");
  const { assertCacheToSupported } = await import("../docker/build.js");
  await assertCacheToSupported(opts.cacheTo);
  const { getCredentials } = await import("../docker/credentials.js");
  const credentials = target ? await getCredentials(target.registry) : undefined;
  const progress = await ctx.progress.build(opts.json ? "quiet" : opts.progress);
  let result: BuildImageResult;
  try {
    result = await buildImage(manifest, {
      tag: target ? taggedName(target) : opts.tag,
      noCache: opts.noCache,
      secrets: opts.secrets,
      caCertFile: opts.caCert === undefined ? undefined : resolve(ctx.cwd, opts.caCert),
      baseImage: opts.baseImage,
      nodeImage: opts.nodeImage,
      platform: opts.platform,
      cacheFrom: opts.cacheFrom,
      cacheTo: opts.cacheTo,
      // Pushed images carry inline cache metadata so a later `--cache-from <image>` can reuse them.
      inlineCache: target !== undefined,
      // Relative to the command's working directory (not the process's: tests run kiln in-process).
      openapiSchemaFile: opts.openapiSchema === undefined ? undefined : resolve(ctx.cwd, opts.openapiSchema),
      typecheck: opts.typecheck,
      trainedWeights: opts.weights === undefined ? undefined : resolve(ctx.cwd, opts.weights),
      onEvent: progress.onEvent,
      signal: ctx.signal,
    });
  } catch (err) {
    progress.stop(false);
    throw err;
  }
  progress.stop(true);
  if (target) {
    if (!opts.json) ctx.out.info(`Built ${result.image} in ${(result.timings.totalMs / 1000).toFixed(1)}s`);
    await pushAndReport(ctx, target, {
      credentials,
      json: opts.json,
      depsImage: result.depsImage,
      extra: { build: result },
    });
  }
  return result;
}
