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
  /** Lookups the store could not answer (the prediction ran uncached). */
  errors: number;
  entries: number;
  bytes: number;
  evictions: number;
}

export class OutputCache {
  private hits = 0;
  private misses = 0;
  private skipped = 0;
  private stores = 0;
  private errors = 0;
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
   * (or, if it failed, the next of them computes). With a store shared by several processes, the same
   * holds across them through the store's flight lock. Counts a hit or a miss; a store that fails
   * (Redis away) is counted as an error and the prediction simply runs. `signal` ends a wait early.
   */
  async lookup(key: string, finished: Promise<unknown>, signal?: AbortSignal): Promise<CacheEntry | null> {
    for (let pending = this.flights.get(key); pending; pending = this.flights.get(key)) await pending;
    let release!: () => void;
    const flight = new Promise<void>((r) => (release = r));
    // Claimed before the first await, so two identical requests cannot both miss.
    this.flights.set(key, flight);
    const done = (): void => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
      release();
    };
    let shared: (() => Promise<void>) | null = null;
    try {
      for (;;) {
        const entry = await this.store.get(key);
        if (entry) return this.hit(entry, done);
        const lock = this.store.flights;
        if (!lock) break;
        shared = await lock.acquire(key);
        if (shared) {
          // Another process may have stored it between our lookup and our claim.
          const late = await this.store.get(key);
          if (late) {
            await shared();
            return this.hit(late, done);
          }
          break;
        }
        if (!signal?.aborted) await lock.waitReleased(key, signal);
        if (signal?.aborted) {
          done();
          return null;
        }
      }
    } catch {
      this.errors++;
      if (shared) await shared().catch(() => undefined);
      done();
      return null;
    }
    this.misses++;
    this.store.recordLookup?.(false);
    const held = shared;
    const settle = (): void => {
      done();
      if (held) void held().catch(() => undefined);
    };
    void finished.then(settle, settle);
    return null;
  }

  private hit(entry: CacheEntry, done: () => void): CacheEntry {
    this.hits++;
    this.store.recordLookup?.(true);
    done();
    return entry;
  }

  async put(key: string, output: unknown): Promise<void> {
    await this.store.put(key, output);
    this.stores++;
  }

  materialize(entry: CacheEntry, dir: string): Promise<unknown> {
    return this.store.materialize(entry, dir);
  }

  close(): Promise<void> {
    return this.store.close?.() ?? Promise.resolve();
  }

  async counters(): Promise<OutputCacheCounters> {
    const s = await this.store.stats();
    return {
      hits: this.hits,
      misses: this.misses,
      skipped: this.skipped,
      stores: this.stores,
      errors: this.errors,
      entries: s.entries,
      bytes: s.bytes,
      evictions: s.evictions,
    };
  }
}
