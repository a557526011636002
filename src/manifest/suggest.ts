/** "Did you mean ...?" for unknown keys: the closest known name by edit distance. */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), three rolling rows. */
function editDistance(a: string, b: string): number {
  const n = b.length;
  let prev2 = new Int32Array(n + 1);
  let prev = Int32Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Int32Array(n + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let best = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (
        i > 1 &&
        j > 1 &&
        a.charCodeAt(i - 1) === b.charCodeAt(j - 2) &&
        a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
      ) {
        best = Math.min(best, prev2[j - 2]! + 1);
      }
      cur[j] = best;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase().replace(/-/g, "_");
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  // Allow about one typo per three letters (min 2), so `pyhton_version` matches but `foo` does not match `gpu`.
  const limit = Math.max(2, Math.floor(w.length / 3));
  if (best !== undefined && bestDistance <= limit && bestDistance < w.length) return best;
  // Prefixes and abbreviations: `python` -> `python_version` is ambiguous, but `requirements` is not.
  const containing = candidates.filter((c) => w.length >= 4 && c.includes(w));
  return containing.length === 1 ? containing[0] : undefined;
}
