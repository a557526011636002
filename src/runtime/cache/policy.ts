/**
 * When the output cache may answer. Opt-in twice — the model declares it can be cached (cog.yaml
 * `kiln: { cache: true }`) and the server has a store — and a request can always bypass it.
 */

/** What a request's Cache-Control asks of the cache. */
export type CacheDirective = "use" | "bypass" | "refresh";

/**
 * `no-store`: neither read nor write (bypass); `no-cache` (or `max-age=0`): run the model and store the
 * new output (refresh); anything else: use.
 */
export function cacheDirective(header: string | string[] | undefined): CacheDirective {
  const value = (Array.isArray(header) ? header.join(",") : (header ?? "")).toLowerCase();
  const parts = value.split(",").map((p) => p.trim());
  if (parts.includes("no-store")) return "bypass";
  if (parts.includes("no-cache") || parts.some((p) => /^max-age\s*=\s*0+$/.test(p))) return "refresh";
  return "use";
}

/** Names of inputs that make a run random unless the caller pins them. */
const SEED_NAMES = new Set(["seed", "random_seed", "rng_seed"]);

/**
 * Why this input must not be cached, or null when it may be. A model with a seed input is random when
 * the seed is left to the model (absent, null, or a negative "pick one" value): such runs are never
 * cached; with the seed given, the run is repeatable and is.
 */
export function uncacheableReason(
  input: Record<string, unknown>,
  inputNames: readonly string[],
): string | null {
  for (const name of inputNames) {
    if (!SEED_NAMES.has(name.toLowerCase())) continue;
    const v = input[name];
    if (v === undefined || v === null || (typeof v === "number" && v < 0))
      return `input ${name} is not given, so the model picks a random one`;
  }
  return null;
}
