/** What `kiln push` (and `kiln build --push`) do once the command line is parsed; loaded on use. */
import { resolve } from "node:path";
import { buildImage } from "../build/image.js";
import { depsCacheRef } from "../build/registry-cache.js";
import type { ProgressMode, RunContext } from "../context.js";
import { UsageError } from "../errors.js";
import { formatBytes } from "../format.js";
import { removeImage, tagImage } from "../docker/build.js";
import { getCredentials, type Credentials } from "../docker/credentials.js";
import { pushImage, type PushResult } from "../docker/push.js";
import { DOCKER_HUB, parseReference, taggedName, type ImageReference } from "../docker/reference.js";
import type { ResolvedManifest } from "../manifest/types.js";

export interface PushOptions {
  /** Destination argument, if any (else `image:` from cog.yaml). */
  image: string | undefined;
  /** The project's manifest, or undefined when there is none (or --no-build with an IMAGE). */
  manifest: ResolvedManifest | undefined;
  json: boolean;
  /** false with --no-build: push the existing local image. */
  build: boolean;
  progress: ProgressMode;
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  openapiSchema?: string | undefined;
  /** --weights PATH: build with trained weights (as `kiln build --weights`) before pushing. */
  weights?: string | undefined;
}

/** The destination: the argument, else `image:` from cog.yaml; it must name a registry. */
export function resolvePushTarget(
  image: string | undefined,
  manifest: ResolvedManifest | undefined,
): ImageReference {
  const name = image ?? (manifest?.imageExplicit ? manifest.image : undefined);
  if (name === undefined) {
    throw new UsageError(
      manifest
        ? "kiln push needs an image name: pass one, or set `image:` in cog.yaml."
        : "kiln push needs an image name (no cog.yaml here).",
      "e.g. kiln push registry.example.com/team/model:1.0",
    );
  }
  const ref = parseReference(name);
  if (ref.digest)
    throw new UsageError(
      `Cannot push to a digest (${name}).`,
      "Push to a tag; kiln prints the digest afterwards.",
    );
  if (ref.registry === DOCKER_HUB && !name.includes("/")) {
    throw new UsageError(
      `"${name}" has no registry or namespace, so it would go to Docker Hub's official library.`,
      "Name the registry, e.g. registry.example.com/team/model, or docker.io/<user>/model.",
    );
  }
  return ref;
}

/**
 * Builds the project (when there is a cog.yaml and --no-build is not given) under the destination
 * name, then pushes it. Without a cog.yaml it pushes the existing local image.
 */
export async function runPush(ctx: RunContext, opts: PushOptions): Promise<PushResult> {
  const { manifest, json } = opts;
  if (opts.weights !== undefined && !(manifest && opts.build))
    throw new UsageError(
      "--weights builds a new version, but this push does not build (--no-build, or no cog.yaml here)",
      "Run it in the project directory without --no-build, or `kiln build --weights PATH` first.",
    );
  const ref = resolvePushTarget(opts.image, manifest);
  const credentials = await getCredentials(ref.registry);
  const info = (line: string): void => {
    if (!json) ctx.out.info(line);
  };
  let built: { imageId: string; buildMs: number; depsImage: string } | undefined;
  if (manifest && opts.build) {
    const progress = await ctx.progress.build(json ? "quiet" : opts.progress);
    let ok = false;
    try {
      const result = await buildImage(manifest, {
        tag: taggedName(ref),
        baseImage: opts.baseImage,
        nodeImage: opts.nodeImage,
        openapiSchemaFile:
          opts.openapiSchema === undefined ? undefined : resolve(ctx.cwd, opts.openapiSchema),
        inlineCache: true,
        trainedWeights: opts.weights === undefined ? undefined : resolve(ctx.cwd, opts.weights),
        onEvent: progress.onEvent,
        signal: ctx.signal,
      });
      ok = true;
      built = { imageId: result.imageId, buildMs: result.timings.totalMs, depsImage: result.depsImage };
      info(`Built ${result.image} in ${(result.timings.totalMs / 1000).toFixed(1)} s`);
    } finally {
      progress.stop(ok);
    }
  } else if (!manifest && opts.build) {
    info("No cog.yaml here: pushing the existing local image.");
  }
  return pushAndReport(ctx, ref, {
    credentials,
    json,
    depsImage: built?.depsImage,
    extra: built ? { build: { imageId: built.imageId, buildMs: built.buildMs } } : {},
  });
}

export interface PushAndReportOptions {
  credentials: Credentials | undefined;
  json: boolean;
  /** The build's dependencies image: pushed as <repo>:kiln-deps so `--cache-from <repo>` can reuse it. */
  depsImage?: string | undefined;
  /** Extra fields of the --json document (e.g. the build result). */
  extra?: Record<string, unknown>;
}

/** Pushes the local image `ref` with progress, then prints the pinned name (or the --json document). */
export async function pushAndReport(
  ctx: RunContext,
  ref: ImageReference,
  opts: PushAndReportOptions,
): Promise<PushResult> {
  const { credentials, json } = opts;
  const info = (line: string): void => {
    if (!json) ctx.out.info(line);
  };
  const progress = await ctx.progress.push(`${ref.original}${ref.tag ? "" : ":latest"}`, json);
  let result: PushResult;
  try {
    result = await pushImage(ref, { credentials, signal: ctx.signal, onLayer: (l) => progress.update(l) });
  } catch (err) {
    progress.stop(false);
    throw err;
  }
  progress.stop(true);
  const cache = opts.depsImage ? await pushDepsCache(ctx, info, ref, opts.depsImage, credentials) : undefined;
  if (json) {
    ctx.out.json({
      image: result.image,
      digest: result.digest,
      pinned: result.pinned,
      bytesUploaded: result.bytesUploaded,
      durationMs: result.durationMs,
      ...(cache ? { cacheImage: cache } : {}),
      ...opts.extra,
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

/**
 * Tags the dependencies image as <repo>:kiln-deps and pushes it (its layers are already there, so this
 * sends little). A failure only warns: the image itself is pushed; the next cold build is just slower.
 */
async function pushDepsCache(
  ctx: RunContext,
  info: (line: string) => void,
  ref: ImageReference,
  depsImage: string,
  credentials: Credentials | undefined,
): Promise<string | undefined> {
  const cacheName = depsCacheRef(taggedName(ref));
  try {
    await tagImage(depsImage, cacheName);
    const pushed = await pushImage(parseReference(cacheName), { credentials, signal: ctx.signal });
    info(`Pushed build cache ${pushed.pinned}`);
    return pushed.pinned;
  } catch (err) {
    ctx.out.warn(`Could not push the build cache ${cacheName}: ${(err as Error).message}`);
    return undefined;
  } finally {
    await removeImage(cacheName);
  }
}
