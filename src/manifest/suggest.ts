/** "Did you mean ...?" for unknown keys: the closest known name by edit distance. */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      let best = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[rows - 1] as number[])[cols - 1] as number;
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
