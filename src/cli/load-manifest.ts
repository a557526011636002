/**
 * The one way commands load cog.yaml: found upward or from -f, errors thrown. Warnings go one way,
 * through `Output.manifestWarnings`: on stderr in the problem format, or, in a --json run, into the
 * run's one JSON document (`warnings: [{code, message, file, line, column, path, hint}]`).
 */
import { ManifestNotFoundError } from "../errors.js";
import { loadManifest, type LoadedManifest } from "../manifest/load.js";
import { requirePredictor } from "../manifest/positions.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
): Promise<LoadedManifest> {
  const loaded = await loadManifest({ cwd: context.cwd, file });
  context.out.manifestWarnings(loaded.warnings);
  return loaded;
}

/** The project's manifest for commands that run it: a `predict:` entry is required (exit 3). */
export async function loadRunnableProject(
  context: CommandContext,
  file: string | undefined,
): Promise<ResolvedManifest> {
  const { manifest } = await loadManifestForCommand(context, file);
  requirePredictor(manifest);
  return manifest;
}

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
