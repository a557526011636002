/**
 * The one way commands load cog.yaml: found upward or from -f, warnings printed in the problem
 * format on stderr (also with --json, whose stdout stays one document), errors thrown.
 * The manifest modules (zod, yaml) are imported on first use: `kiln predict IMAGE` and --help need none.
 */
import { formatProblem, ManifestNotFoundError } from "../errors.js";
import type { LoadedManifest } from "../manifest/load.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
): Promise<LoadedManifest> {
  const { loadManifest } = await import("../manifest/load.js");
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
