/**
 * What a build leaves behind: the image that held the tag before (dangling once the tag moves) and
 * dependency images of the same project that no tagged kiln image is built on any more. Removing them
 * keeps a day of edit-build cycles from filling the engine with unnamed images.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { imagesWithLabel, removeImage, type LocalImage } from "../docker/build.js";

/** The repository every dependencies image is tagged in: kiln-deps:<fingerprint>. */
const DEPS_REPOSITORY = "kiln-deps";
export const DEPS_LABEL = "kiln.deps";
export const DEPS_PROJECT_LABEL = "kiln.deps.project";
export const DEPS_FINGERPRINT_LABEL = "kiln.deps.fingerprint";

/** Names a project by its folder, so only that project's superseded dependency images are pruned. */
export function projectKey(root: string): string {
  return createHash("sha256").update(resolve(root)).digest("hex").slice(0, 16);
}

/** kiln-deps:<fingerprint>: one dependencies image per set of inputs, whatever the model is called. */
export function depsTagFor(fingerprint: string): string {
  return `${DEPS_REPOSITORY}:${fingerprint.slice(0, 24)}`;
}

/** The dependencies image an image was built on, from the fingerprint label its base passed down. */
export function depsTagOf(labels: Record<string, string>): string | null {
  const fp = labels[DEPS_FINGERPRINT_LABEL];
  return fp ? depsTagFor(fp) : null;
}

function builtOn(image: LocalImage, base: LocalImage): boolean {
  return base.layers.length > 0 && base.layers.every((layer, i) => image.layers[i] === layer);
}

/** The dependency images to remove: this project's, not the current one, and under no tagged image. */
export function supersededDeps(
  deps: LocalImage[],
  models: LocalImage[],
  project: string,
  currentId: string,
): LocalImage[] {
  const tagged = models.filter((m) => m.repoTags.length > 0);
  return deps.filter(
    (d) =>
      d.id !== currentId &&
      // Model images inherit the dependency labels from their base: never count them as one.
      d.labels["run.cog.version"] === undefined &&
      d.labels[DEPS_PROJECT_LABEL] === project &&
      !tagged.some((m) => m.id !== d.id && builtOn(m, d)),
  );
}

/**
 * Removes the image `finalTag` pointed at before this build when nothing names it now, then this
 * project's superseded dependency images. Best effort: an image still used by a container stays.
 */
export async function pruneAfterBuild(options: {
  previousId: string | null;
  imageId: string;
  depsId: string | null;
  project: string;
}): Promise<string[]> {
  const removed: string[] = [];
  const models = await imagesWithLabel("run.cog.version");
  const previous = models.find((m) => m.id === options.previousId);
  if (previous && previous.id !== options.imageId && previous.repoTags.length === 0) {
    await removeImage(previous.id);
    removed.push(previous.id);
  }
  if (options.depsId === null) return removed;
  const deps = await imagesWithLabel(DEPS_LABEL);
  for (const d of supersededDeps(deps, models, options.project, options.depsId)) {
    // Untag every name it has; the engine then drops layers no other image holds.
    for (const tag of d.repoTags) await removeImage(tag);
    if (d.repoTags.length === 0) await removeImage(d.id);
    removed.push(d.id);
  }
  return removed;
}
