/**
 * `kiln serve --cache[=DIR]`: where the output cache lives and which version id keys it. Opt-in twice:
 * the model declares it (`kiln: { cache: true }` in cog.yaml, kept in the image's run.cog.config
 * label) and the user asks for a store. Everything is checked before the model starts.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { ModelSource } from "./model-source.js";

/** Where the cache directory is mounted inside the model's container. */
const CONTAINER_CACHE_DIR = "/var/cache/kiln-output";

export interface CachePlan {
  /** Host directory of the store. */
  dir: string;
  /** The version id: the image id, or the project's content hash with --no-docker. */
  version: string;
}

function declaresCache(config: Record<string, unknown> | undefined): boolean {
  const kiln = config?.["kiln"];
  return typeof kiln === "object" && kiln !== null && (kiln as { cache?: unknown }).cache === true;
}

function defaultDir(project: ResolvedManifest | undefined): string {
  if (project) return join(project.root, ".kiln", "output-cache");
  const base = process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
  return join(base, "kiln", "output-cache");
}

/** `--cache` (true) or `--cache DIR` → the plan; undefined without the flag. Throws a UsageError when the model does not opt in. */
export async function planOutputCache(
  flag: boolean | string | undefined,
  source: ModelSource,
  cwd: string,
): Promise<CachePlan | undefined> {
  if (flag === undefined || flag === false) return undefined;
  const config = source.kind === "docker" ? source.image.config : source.project.raw;
  const what = source.kind === "docker" ? source.image.ref : "this project";
  if (!declaresCache(config))
    throw new UsageError(
      `--cache: ${what} does not declare that its outputs may be cached`,
      "The model's author opts in with `kiln: {cache: true}` in cog.yaml (then rebuild the image): only they know that the same input always gives the same output.",
    );
  const dir = typeof flag === "string" ? resolve(cwd, flag) : defaultDir(source.project);
  // Created here, not by the engine: a bind-mounted directory it creates would belong to root.
  await mkdir(dir, { recursive: true });
  if (source.kind === "docker") return { dir, version: source.image.id };
  const { projectVersion } = await import("../build/project-version.js");
  return { dir, version: await projectVersion(source.project.root) };
}

/** The container's view of a plan: the env the server reads and the bind mount. */
export function containerCache(plan: CachePlan): { env: Record<string, string>; bind: string } {
  return {
    env: { KILN_CACHE_DIR: CONTAINER_CACHE_DIR, KILN_CACHE_VERSION: plan.version },
    bind: `${plan.dir}:${CONTAINER_CACHE_DIR}`,
  };
}
