/**
 * Registry cache for CI builds: pushed images carry inline BuildKit cache metadata, and the dependencies
 * stage is pushed next to the image as <repo>:kiln-deps so a cold machine can reuse its layers too.
 */
import { parseReference, repositoryName } from "../docker/reference.js";

/** Tag the dependencies image is pushed under, in the same repository as the image. */
const DEPS_CACHE_TAG = "kiln-deps";

/** <registry>/<repo>:kiln-deps for any reference of that repository (tag or digest ignored). */
export function depsCacheRef(ref: string): string {
  return `${repositoryName(parseReference(ref))}:${DEPS_CACHE_TAG}`;
}

/** Cache sources for the dependencies stage: each --cache-from ref plus its repository's kiln-deps tag. */
export function depsCacheSources(cacheFrom: string[] | undefined): string[] {
  const refs = cacheFrom ?? [];
  return [...new Set([...refs, ...refs.map(depsCacheRef)])];
}
