/** Builds the project's image for predict/serve/exec through `kiln build`'s own code path. */
import { buildImage } from "../build/image.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { createBuildProgress, type ProgressMode } from "../cli/build-progress.js";
import type { CommandContext } from "../cli/context.js";

export interface ProjectImageOptions {
  progress: string;
  /** --node-image: where the node binary for kiln's server comes from (offline/custom setups). */
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Returns the built image's id (layers are cached, so an unchanged project rebuilds in a moment). */
export async function buildProjectImage(
  ctx: CommandContext,
  manifest: ResolvedManifest,
  opts: ProjectImageOptions,
): Promise<string> {
  const mode = (
    ["auto", "plain", "quiet", "json"].includes(opts.progress) ? opts.progress : "auto"
  ) as ProgressMode;
  const progress = createBuildProgress(ctx.out, mode);
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
