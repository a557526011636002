/** Resolves a fixture's cog.yaml the way `kiln build` does (falls back to the test reader until loadManifest lands). */
import type { ResolvedManifest } from "../../src/manifest/types.js";
import { readManifestForTest } from "./manifest-stub.js";

export async function loadFixtureManifest(dir: string): Promise<ResolvedManifest> {
  return readManifestForTest(dir);
}
