/** `kiln exec CMD...`: a command in the model's environment (its image) with the project at /src. */
import type { ProgressMode, RunContext } from "../context.js";
import { DockerUnavailableError, UsageError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { inspectModelImage } from "../docker/image.js";
import { runAttached } from "../docker/run-attached.js";
import { connectEngine } from "../docker/engine.js";
import { buildProjectImage } from "./project-image.js";

export interface ExecOptions {
  command: string[];
  env: Record<string, string>;
  /** The project's manifest. */
  loadProject: () => Promise<ResolvedManifest>;
  progress: ProgressMode;
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
}

/** Returns the command's exit status. */
export async function runExec(ctx: RunContext, opts: ExecOptions): Promise<number> {
  const { command, env } = opts;
  if (command.length === 0)
    throw new UsageError("kiln exec needs a command, e.g. `kiln exec python -c 'import torch'`");
  // The manifest first: its problems (exit 3) are the user's to fix whatever the engine's state.
  const manifest = await opts.loadProject();
  const engine = await connectEngine();
  if (!engine)
    throw new DockerUnavailableError(
      "kiln exec runs the command in the model's image and needs a Docker engine",
    );
  const ref = await buildProjectImage(ctx, manifest, {
    progress: opts.progress,
    baseImage: opts.baseImage,
    nodeImage: opts.nodeImage,
  });
  const image = await inspectModelImage(engine, ref).catch(() => undefined);
  return runAttached(engine, {
    image: image?.id ?? ref,
    command,
    env,
    mountProject: manifest.root,
    gpu: manifest.build.gpu,
    onNote: (l) => ctx.out.info(l),
  });
}
