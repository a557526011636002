/**
 * User metrics of one prediction, as Cog's coglet accumulates them: dotted names nest
 * (`timing.preprocess` -> `{timing: {preprocess}}`), `incr` adds, `append` pushes, a null value deletes.
 * `predict_time` belongs to the runtime: a user value under that name is ignored.
 */
export type MetricMode = "replace" | "incr" | "append";

type Tree = Record<string, unknown>;

const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** Applies one metric update to `metrics` in place; returns the key's new value (undefined when deleted). */
export function applyMetric(metrics: Tree, name: string, value: unknown, mode: MetricMode): unknown {
  const path = name.split(".");
  if (path[0] === "predict_time" || path.some((p) => p === "")) return undefined;
  let node = metrics;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) {
      if (value === null) return undefined; // deleting under a missing branch: nothing to do
      node[part] = {};
    }
    node = node[part] as Tree;
  }
  const leaf = path[path.length - 1]!;
  if (value === null) {
    delete node[leaf];
    pruneEmpty(metrics, path.slice(0, -1));
    return undefined;
  }
  const prev = node[leaf];
  if (mode === "incr" && typeof value === "number") {
    node[leaf] = (typeof prev === "number" ? prev : 0) + value;
  } else if (mode === "append") {
    node[leaf] = [...(Array.isArray(prev) ? prev : []), value];
  } else {
    node[leaf] = value;
  }
  return node[leaf];
}

/** Deleting the last leaf of a branch removes the branch too. */
function pruneEmpty(metrics: Tree, branch: string[]): void {
  for (let depth = branch.length; depth > 0; depth--) {
    let node: Tree = metrics;
    for (const part of branch.slice(0, depth - 1)) node = node[part] as Tree;
    const key = branch[depth - 1]!;
    if (isTree(node[key]) && Object.keys(node[key]).length === 0) delete node[key];
    else return;
  }
}
