/**
 * The one way commands load cog.yaml: found upward or from -f, errors thrown. Warnings go one way,
 * through `Output.manifestWarnings`: on stderr in the problem format, or, in a --json run, into the
 * run's one JSON document (`warnings: [{code, message, file, line, column, path, hint}]`).
 * The manifest modules (zod, yaml) are imported on first use: `kiln predict IMAGE` and --help need none,
 * and commands that run the project reuse the cached parse of an unchanged cog.yaml (manifest-cache.ts).
 */
import { ManifestNotFoundError } from "../errors.js";
import type { LoadedManifest } from "../manifest/load.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
  cache = false,
): Promise<LoadedManifest> {
  const { loadManifest } = await import("../manifest/load.js");
  const loaded = await loadManifest({ cwd: context.cwd, file, cache });
  if (loaded.cached)
    context.out.debug("cog.yaml unchanged: reusing its cached parse (.kiln/manifest-cache.json)");
  context.out.manifestWarnings(loaded.warnings);
  return loaded;
}

/**
 * The project's manifest for commands that run it (exit 3 without the entry point they need): `predict:`
 * for predictions; `predict:` or `train:` for serve and train (a train-only model serves /trainings).
 */
export async function loadRunnableProject(
  context: CommandContext,
  file: string | undefined,
  need: RunnableNeed = "predict",
): Promise<ResolvedManifest> {
  // Running the model is what users repeat most: reuse the last parse when nothing changed.
  const { manifest } = await loadManifestForCommand(context, file, true);
  const { requireEntryPoint, requirePredictor } = await import("../manifest/positions.js");
  if (need === "predict") requirePredictor(manifest);
  else requireEntryPoint(manifest, "run");
  return manifest;
}

/** Which entry point a command needs: the predictor, or either one. */
export type RunnableNeed = "predict" | "any";

/** cog.yaml if there is one (push works without); an explicit -f that is missing is still an error. */
export async function loadOptionalManifest(
  context: CommandContext,
  file: string | undefined,
): Promise<ResolvedManifest | undefined> {
  try {
    return (await loadManifestForCommand(context, file)).manifest;
  } catch (err) {
    if (err instanceof ManifestNotFoundError && file === undefined) return undefined;
    throw err;
  }
}
