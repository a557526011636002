/**
 * Finds the first value in a predictor's output that JSON cannot carry faithfully (NaN, Infinity, a
 * BigInt beyond 2^53, a function or symbol, a cycle), so the prediction fails naming it instead of the
 * value silently becoming null or changing type on the way out.
 */
export function findNonJson(value: unknown, path = "output"): string | null {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? null : `${path} is ${String(value)}, which JSON cannot represent`;
    case "bigint":
      return Number.isSafeInteger(Number(value))
        ? null
        : `${path} is the BigInt ${value}, larger than a JSON number holds exactly (return it as a string)`;
    case "function":
    case "symbol":
      return `${path} is a ${typeof value}, which JSON cannot represent`;
    case "object": {
      if (value === null || value instanceof Date || ArrayBuffer.isView(value)) return null;
      if (seen.has(value)) return `${path} refers back to itself (a circular reference)`;
      seen.add(value);
      const entries: [string, unknown][] = Array.isArray(value)
        ? value.map((v, i) => [`${path}[${i}]`, v])
        : Object.entries(value).map(([k, v]) => [
            /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
            v,
          ]);
      for (const [p, v] of entries) {
        if (v === undefined && !Array.isArray(value)) continue;
        const problem = walk(v, p, seen);
        if (problem) return problem;
      }
      seen.delete(value);
      return null;
    }
    default:
      return null;
  }
}
