import type { Command } from "commander";
import { ManifestNotFoundError, UsageError } from "../../errors.js";
import { getCredentials } from "../../docker/credentials.js";
import { pushImage, type PushResult } from "../../docker/push.js";
import { DOCKER_HUB, parseReference, type ImageReference } from "../../docker/reference.js";
import { loadManifest } from "../../manifest/load.js";
import type { CommandContext } from "../context.js";
import { Output } from "../output.js";
import { PushProgress, formatBytes } from "../push-progress.js";

export interface PushOptions {
  json?: boolean;
}

export function registerPush(program: Command, context: () => CommandContext): void {
  program
    .command("push")
    .description("push the image to an OCI registry; prints the pinned name@sha256:...")
    .argument("[image]", "destination (default: `image` in cog.yaml)")
    .option("--json", "print a machine-readable result")
    .action(async (image: string | undefined, opts: PushOptions, cmd: Command) => {
      const file = (cmd.optsWithGlobals() as { file?: string }).file;
      await runPush(context(), image, { ...opts, file });
    });
}

/** The destination: the argument, else `image:` from cog.yaml; it must name a registry. */
export async function resolvePushTarget(
  ctx: CommandContext,
  image: string | undefined,
  file?: string,
): Promise<ImageReference> {
  let name = image;
  if (name === undefined) {
    try {
      const { manifest } = await loadManifest({ cwd: ctx.cwd, ...(file ? { file } : {}) });
      if (manifest.imageExplicit) name = manifest.image;
    } catch (err) {
      if (!(err instanceof ManifestNotFoundError)) throw err;
    }
  }
  if (name === undefined) {
    throw new UsageError(
      "kiln push needs an image name: pass one, or set `image:` in cog.yaml.",
      "e.g. kiln push registry.example.com/team/model:1.0",
    );
  }
  const ref = parseReference(name);
  if (ref.digest)
    throw new UsageError(
      `Cannot push to a digest (${name}).`,
      "Push to a tag; kiln prints the digest afterwards.",
    );
  if (ref.registry === DOCKER_HUB && !name.startsWith("docker.io/") && !name.includes("/")) {
    throw new UsageError(
      `"${name}" has no registry or namespace, so it would go to Docker Hub's official library.`,
      "Name the registry, e.g. registry.example.com/team/model, or docker.io/<user>/model.",
    );
  }
  return ref;
}

export async function runPush(
  ctx: CommandContext,
  image: string | undefined,
  opts: PushOptions & { file?: string | undefined },
): Promise<PushResult> {
  const ref = await resolvePushTarget(ctx, image, opts.file);
  const credentials = await getCredentials(ref.registry);
  const json = Boolean(opts.json);
  const out = json ? quiet(ctx) : ctx.out;
  const progress = new PushProgress(out, `${ref.original}${ref.tag ? "" : ":latest"}`);
  let result: PushResult;
  try {
    result = await pushImage(ref, { credentials, signal: ctx.signal, onLayer: (l) => progress.update(l) });
  } catch (err) {
    progress.stop(false);
    throw err;
  }
  progress.stop(true);
  if (json) {
    ctx.out.json({
      image: result.image,
      digest: result.digest,
      pinned: result.pinned,
      bytesUploaded: result.bytesUploaded,
      durationMs: result.durationMs,
      layers: result.layers.map((l) => ({ id: l.id, status: l.state, bytes: l.total ?? l.current })),
    });
    return result;
  }
  const uploaded = result.layers.filter((l) => l.state === "pushed").length;
  const skipped = result.layers.length - uploaded;
  ctx.out.info(
    `Pushed ${uploaded} layer(s), ${formatBytes(result.bytesUploaded)}; ${skipped} already in the registry; ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  ctx.out.print(result.pinned);
  return result;
}

/** With --json only the final document goes to stdout; progress stays off. */
function quiet(ctx: CommandContext): Output {
  return new Output({ ...ctx.out.options, json: true }, ctx.out.stdout, ctx.out.stderr);
}
