/**
 * Which project files are model weights, and how they are grouped into layers. Pure: works on the
 * scanned file list. Big files get a layer each; small weights files are batched in path order so that
 * changing one file re-uploads only its own layer.
 */
import { globToRegExp, matchesOrParent } from "./dockerignore.js";

export interface ProjectFile {
  /** Relative path, forward slashes. */
  path: string;
  size: number;
  /** Permission bits (0o755 keeps executables executable). */
  mode: number;
  type: "file" | "symlink";
  /** For symlinks: the link text as stored. */
  linkTarget?: string;
}

export interface WeightsGroup {
  index: number;
  files: { path: string; size: number }[];
  bytes: number;
}

export interface WeightsOptions {
  /** Undeclared files at least this big become weights (default 10 MiB; 0 disables). */
  largeFileBytes: number;
  /** Files at least this big get a layer of their own. */
  ownLayerBytes: number;
  /** Small weights files are batched until a layer holds this many bytes. */
  batchBytes: number;
}

export const DEFAULT_WEIGHTS_OPTIONS: WeightsOptions = {
  largeFileBytes: 10 * 1024 * 1024,
  ownLayerBytes: 64 * 1024 * 1024,
  batchBytes: 256 * 1024 * 1024,
};

export interface WeightsSplit {
  groups: WeightsGroup[];
  /** Paths of files that go into the code layer. */
  code: ProjectFile[];
  /** Undeclared large files that were moved into weights layers. */
  undeclared: { path: string; size: number }[];
}

/** Splits project files into weights groups and code, honouring `weights:` paths/globs. */
export function splitWeights(
  files: readonly ProjectFile[],
  declared: readonly string[],
  options: WeightsOptions = DEFAULT_WEIGHTS_OPTIONS,
  /** Paths that must stay in the code layer (manifest, requirements, predictor sources). */
  keep: ReadonlySet<string> = new Set(),
): WeightsSplit {
  const matchers = declared.map((d) => globToRegExp(d.replace(/^\.?\/+/, "").replace(/\/+$/, "")));
  const weights: ProjectFile[] = [];
  const code: ProjectFile[] = [];
  const undeclared: { path: string; size: number }[] = [];
  for (const f of files) {
    if (f.type !== "file" || keep.has(f.path)) {
      code.push(f);
      continue;
    }
    if (matchers.some((m) => matchesOrParent(m, f.path))) weights.push(f);
    else if (options.largeFileBytes > 0 && f.size >= options.largeFileBytes) {
      weights.push(f);
      undeclared.push({ path: f.path, size: f.size });
    } else code.push(f);
  }
  weights.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { groups: groupWeights(weights, options), code, undeclared };
}

function groupWeights(files: readonly ProjectFile[], options: WeightsOptions): WeightsGroup[] {
  const groups: WeightsGroup[] = [];
  let batch: WeightsGroup | null = null;
  const push = (g: WeightsGroup): void => {
    g.index = groups.length;
    groups.push(g);
  };
  for (const f of files) {
    const entry = { path: f.path, size: f.size };
    if (f.size >= options.ownLayerBytes) {
      push({ index: 0, files: [entry], bytes: f.size });
      batch = null;
      continue;
    }
    if (!batch || batch.bytes + f.size > options.batchBytes) {
      batch = { index: 0, files: [], bytes: 0 };
      push(batch);
    }
    batch.files.push(entry);
    batch.bytes += f.size;
  }
  return groups;
}
