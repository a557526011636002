/** Resolves a fixture's cog.yaml exactly as `kiln build` does. */
import { loadManifest } from "../../src/manifest/load.js";
import type { ResolvedManifest } from "../../src/manifest/types.js";

export async function loadFixtureManifest(dir: string): Promise<ResolvedManifest> {
  return (await loadManifest({ cwd: dir })).manifest;
}
