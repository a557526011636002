/** Builds the project's image for predict/serve/exec through `kiln build`'s own code path. */
import { buildImage } from "../build/image.js";
import type { ProgressMode, RunContext } from "../context.js";
import type { ResolvedManifest } from "../manifest/types.js";

export interface ProjectImageOptions {
  progress: ProgressMode;
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  /** --node-image: where the node binary for kiln's server comes from (offline/custom setups). */
  nodeImage?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Returns the built image's id (layers are cached, so an unchanged project rebuilds in a moment). */
export async function buildProjectImage(
  ctx: RunContext,
  manifest: ResolvedManifest,
  opts: ProjectImageOptions,
): Promise<string> {
  const progress = await ctx.progress.build(opts.progress);
  let ok = false;
  try {
    const result = await buildImage(manifest, {
      baseImage: opts.baseImage,
      nodeImage: opts.nodeImage,
      onEvent: progress.onEvent,
      signal: opts.signal ?? ctx.signal,
    });
    ok = true;
    return result.imageId;
  } finally {
    progress.stop(ok);
  }
}
