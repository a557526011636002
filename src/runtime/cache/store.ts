/**
 * Where cached outputs live: one interface, two implementations — a directory for `kiln serve`
 * (dir-store.ts) and Redis plus a shared blob directory for the fleet (fleet/redis-cache-store.ts).
 * Outputs are kept as the worker
 * returned them, with each file output moved into a content-addressed blob, so a hit is served through
 * the same file path (data URI or upload) as a fresh run.
 */

/** A file output inside a cached value: the blob's SHA-256 and the file name the model gave it. */
export interface BlobRef {
  $blob: string;
  name: string;
}

export interface CacheEntry {
  /** The worker's output with every `{ $file }` replaced by a BlobRef. */
  output: unknown;
  /** Bytes the entry holds: its JSON plus its blobs. */
  bytes: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  evictions: number;
}

export interface CacheStore {
  /** The entry for `key`, or null (also once it expired); a hit counts as a use for LRU. */
  get(key: string): Promise<CacheEntry | null>;
  /** Stores an output whose file outputs are `{ $file: path }`; the files are copied into blobs. */
  put(key: string, output: unknown): Promise<void>;
  /** A cached output with each blob copied to a file under `dir`, as `{ $file: path }` again. */
  materialize(entry: CacheEntry, dir: string): Promise<unknown>;
  stats(): Promise<CacheStats>;
  /**
   * Single flight across processes (the fleet's store): identical predictions on several replicas run
   * once. Absent for a store only one process uses (OutputCache's in-process single flight suffices).
   */
  readonly flights?: FlightLock | undefined;
  /** Told of each lookup's outcome, for counters shared by every process using the store. */
  recordLookup?(hit: boolean): void;
  /** Releases connections; the server calls it once its predictions are drained. */
  close?(): Promise<void>;
}

/** A lock per cache key held by the process computing it, that lapses if that process dies. */
export interface FlightLock {
  /** Becomes the one computing `key`: a release function, or null when another process holds it. */
  acquire(key: string): Promise<(() => Promise<void>) | null>;
  /** Resolves once nobody holds `key` (released, or the holder's lock lapsed), or `signal` aborts. */
  waitReleased(key: string, signal?: AbortSignal): Promise<void>;
}

export interface CacheLimits {
  /** Evict least recently used entries beyond this many bytes. */
  maxBytes: number;
  /** Entries older than this are gone. */
  ttlMs: number;
}

/** 10 GiB and 7 days: room for a working set of generated images without filling a disk unnoticed. */
export const DEFAULT_CACHE_LIMITS: CacheLimits = { maxBytes: 10 * 1024 ** 3, ttlMs: 7 * 24 * 3600 * 1000 };

export function isBlobRef(v: unknown): v is BlobRef {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { $blob?: unknown }).$blob === "string" &&
    typeof (v as { name?: unknown }).name === "string"
  );
}

/** Rebuilds `value` with every node `match` accepts replaced by `replace(node)`. */
export async function mapRefs<T>(
  value: unknown,
  match: (v: unknown) => v is T,
  replace: (ref: T) => Promise<unknown>,
): Promise<unknown> {
  if (match(value)) return replace(value);
  if (Array.isArray(value)) return Promise.all(value.map((v) => mapRefs(v, match, replace)));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await mapRefs(v, match, replace);
    return out;
  }
  return value;
}
