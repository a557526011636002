/** Commands load cog.yaml through here so deprecation warnings are printed the same way everywhere. */
import { formatProblem } from "../errors.js";
import { loadManifest, type LoadedManifest } from "../manifest/load.js";
import type { CommandContext } from "./context.js";

export async function loadManifestForCommand(
  context: CommandContext,
  file: string | undefined,
): Promise<LoadedManifest> {
  const loaded = await loadManifest({ cwd: context.cwd, file });
  for (const warning of loaded.warnings) context.out.warn(formatProblem(warning));
  return loaded;
}
