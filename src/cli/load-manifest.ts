/**
 * The one way commands load cog.yaml: found upward or from -f, warnings printed in the problem
 * format on stderr (also with --json, whose stdout stays one document), errors thrown.
 */
import { formatProblem, ManifestNotFoundError } from "../errors.js";
import { loadManifest, type LoadedManifest } from "../manifest/load.js";
import { requirePredictor } from "../manifest/positions.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
): Promise<LoadedManifest> {
  const loaded = await loadManifest({ cwd: context.cwd, file });
  for (const warning of loaded.warnings) context.out.warn(formatProblem(warning));
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
