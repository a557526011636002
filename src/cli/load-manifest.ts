/**
 * The one way commands load cog.yaml: found upward or from -f, errors thrown. Warnings go one way,
 * through `Output.manifestWarnings`: on stderr in the problem format, or, in a --json run, into the
 * run's one JSON document (`warnings: [{code, message, file, line, column, path, hint}]`).
 * The manifest modules (zod, yaml) are imported on first use: `kiln predict IMAGE` and --help need none.
 */
import { ManifestNotFoundError } from "../errors.js";
import type { LoadedManifest } from "../manifest/load.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
): Promise<LoadedManifest> {
  const { loadManifest } = await import("../manifest/load.js");
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
  const { requirePredictor } = await import("../manifest/positions.js");
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
