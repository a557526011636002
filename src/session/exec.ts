/** `kiln exec CMD...`: a command in the model's environment (its image) with the project at /src. */
import { DockerUnavailableError, UsageError } from "../errors.js";
import { loadManifest } from "../manifest/load.js";
import { inspectModelImage } from "../docker/image.js";
import { runAttached } from "../docker/run-attached.js";
import { connectEngine } from "../docker/session.js";
import type { CommandContext } from "../cli/context.js";
import { parseEnvFlags } from "./model-source.js";
import { buildProjectImage } from "./project-image.js";

export interface ExecOptions {
  env?: string[] | undefined;
  progress?: string | undefined;
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  file?: string | undefined;
}

export async function runExec(ctx: CommandContext, command: string[], opts: ExecOptions): Promise<number> {
  if (command.length === 0)
    throw new UsageError("kiln exec needs a command, e.g. `kiln exec python -c 'import torch'`");
  const env = parseEnvFlags(opts.env);
  const engine = await connectEngine();
  if (!engine)
    throw new DockerUnavailableError(
      "kiln exec runs the command in the model's image and needs a Docker engine",
    );
  const { manifest } = await loadManifest({ cwd: ctx.cwd, file: opts.file });
  const ref = await buildProjectImage(ctx, manifest, {
    progress: opts.progress ?? "auto",
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
