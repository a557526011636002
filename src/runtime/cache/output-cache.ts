/**
 * The output cache as the prediction runner uses it: keys for a validated input, lookups and stores
 * that count hits and misses, and single flight: identical predictions arriving together run the model
 * once and the others are answered from the first one's stored output.
 */
import { cacheKey, keyedInput } from "./key.js";
import { uncacheableReason } from "./policy.js";
import type { CacheEntry, CacheStore } from "./store.js";

export interface OutputCacheCounters {
  hits: number;
  misses: number;
  /** Predictions that could not use the cache (no-store, or a seed left to the model). */
  skipped: number;
  /** Outputs stored. */
  stores: number;
  entries: number;
  bytes: number;
  evictions: number;
}

export class OutputCache {
  private hits = 0;
  private misses = 0;
  private skipped = 0;
  private stores = 0;
  /** Keys being computed right now, each settled when its prediction finishes. */
  private readonly flights = new Map<string, Promise<void>>();

  /** `version` is the image digest, or a content hash of the project without an image. */
  constructor(
    private readonly store: CacheStore,
    readonly version: string,
  ) {}

  /** The key for an input whose file fields are local paths by now; null (counted) when uncacheable. */
  async keyFor(
    input: Record<string, unknown>,
    fileFields: readonly string[],
    inputNames: readonly string[],
  ): Promise<string | null> {
    if (uncacheableReason(input, inputNames) !== null) {
      this.skipped++;
      return null;
    }
    return cacheKey(this.version, await keyedInput(input, fileFields));
  }

  skip(): void {
    this.skipped++;
  }

  /**
   * The cached entry for `key`, or null (a miss) — after which the caller is the one computing `key`
   * until `finished` settles: identical lookups meanwhile wait for it, then find its stored output
   * (or, if it failed, the next of them computes). Counts a hit or a miss.
   */
  async lookup(key: string, finished: Promise<unknown>): Promise<CacheEntry | null> {
    for (let pending = this.flights.get(key); pending; pending = this.flights.get(key)) await pending;
    let release!: () => void;
    const flight = new Promise<void>((r) => (release = r));
    // Claimed before the first await, so two identical requests cannot both miss.
    this.flights.set(key, flight);
    const done = (): void => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
      release();
    };
    let entry: CacheEntry | null = null;
    try {
      entry = await this.store.get(key);
    } catch (err) {
      done();
      throw err;
    }
    if (entry) {
      this.hits++;
      done();
      return entry;
    }
    this.misses++;
    void finished.then(done, done);
    return null;
  }

  async put(key: string, output: unknown): Promise<void> {
    await this.store.put(key, output);
    this.stores++;
  }

  materialize(entry: CacheEntry, dir: string): Promise<unknown> {
    return this.store.materialize(entry, dir);
  }

  async counters(): Promise<OutputCacheCounters> {
    const s = await this.store.stats();
    return {
      hits: this.hits,
      misses: this.misses,
      skipped: this.skipped,
      stores: this.stores,
      entries: s.entries,
      bytes: s.bytes,
      evictions: s.evictions,
    };
  }
}
