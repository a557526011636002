/**
 * The fleet's output cache store: the index (entries, LRU order, TTL order, byte count, blob reference
 * counts, counters) in Redis, changed only by the Lua scripts of cache-scripts.ts, and the file outputs
 * as content-addressed blobs in a directory every replica mounts (written as a temp file, then renamed).
 * A hit on any replica re-serves the files from that directory. Identical predictions on several
 * replicas run once: the first takes the key's flight lock, renewed while it runs, and the others wait
 * for it to go; a replica that dies stops renewing, so the lock lapses after `lockMs`.
 */
import { randomBytes } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { BlobDir } from "../runtime/cache/blobs.js";
import {
  DEFAULT_CACHE_LIMITS,
  mapRefs,
  type BlobRef,
  type CacheEntry,
  type CacheLimits,
  type CacheStats,
  type CacheStore,
  type FlightLock,
} from "../runtime/cache/store.js";
import { isFileRef } from "../runtime/files.js";
import type { Logger } from "../runtime/logger.js";
import type { MetricsRegistry } from "../runtime/metrics.js";
import {
  CACHE_DROP,
  CACHE_GET,
  CACHE_PUT,
  CACHE_UNREF,
  FLIGHT_RELEASE,
  FLIGHT_RENEW,
} from "./cache-scripts.js";
import type { CacheKeys } from "./keys.js";
import { pairs, type RedisConnection } from "./redis.js";

/** A flight lock not renewed for this long is taken to belong to a dead replica. */
const DEFAULT_LOCK_MS = 30_000;
/** How long a blob deletion may take before its `deleting` mark lapses (a deleter that died). */
const DELETE_MARK_MS = 30_000;
/** Unreferenced blob files younger than this are left alone (their put may be in progress). */
const SWEEP_GRACE_MS = 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

export interface RedisCacheStoreOptions {
  conn: RedisConnection;
  keys: CacheKeys;
  /** The blob directory every replica mounts. */
  dir: string;
  limits?: Partial<CacheLimits> | undefined;
  lockMs?: number | undefined;
  logger: Logger;
  /** Closed with the store (a connection of its own). */
  ownsConnection?: boolean | undefined;
  now?: () => number;
}

interface Blob {
  sha: string;
  size: number;
}

export class RedisCacheStore implements CacheStore {
  readonly flights: FlightLock;
  private readonly blobs: BlobDir;
  private readonly limits: CacheLimits;
  private readonly lockMs: number;
  private readonly now: () => number;
  /** Background blob deletions, awaited by close(). */
  private readonly background = new Set<Promise<void>>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly o: RedisCacheStoreOptions) {
    this.blobs = new BlobDir(o.dir);
    this.limits = { ...DEFAULT_CACHE_LIMITS, ...o.limits };
    this.lockMs = o.lockMs ?? DEFAULT_LOCK_MS;
    this.now = o.now ?? Date.now;
    this.flights = {
      acquire: (key) => this.acquire(key),
      waitReleased: (key, signal) => this.waitReleased(key, signal),
    };
  }

  private get indexKeys(): string[] {
    const k = this.o.keys;
    return [k.lru, k.created, k.refs, k.bytes, k.stats];
  }

  private fixedArgs(): (string | number)[] {
    return [this.o.keys.prefix, DELETE_MARK_MS, this.now(), this.limits.ttlMs];
  }

  async get(key: string): Promise<CacheEntry | null> {
    const reply = (await this.o.conn.script(CACHE_GET, this.indexKeys, [...this.fixedArgs(), key])) as [
      number,
      string[],
      string?,
      string?,
      string?,
      string?,
    ];
    this.removeInBackground(reply[1]);
    if (reply[0] !== 1) return null;
    const blobs = JSON.parse(reply[3]!) as Blob[];
    // A blob gone from the directory (not shared after all, or removed by hand) makes the entry useless.
    if ((await Promise.all(blobs.map((b) => this.blobs.size(b.sha)))).includes(null)) {
      this.o.logger.warn("a cached output's file is missing from the blob directory; dropping the entry", {
        dir: this.o.dir,
        key,
      });
      const orphans = (await this.o.conn.script(CACHE_DROP, this.indexKeys, [
        ...this.fixedArgs(),
        key,
      ])) as string[];
      await this.remove(orphans);
      return null;
    }
    return { output: JSON.parse(reply[2]!), bytes: Number(reply[4]), createdAt: Number(reply[5]) };
  }

  async put(key: string, output: unknown): Promise<void> {
    const sources = new Map<string, string>();
    const blobs = new Map<string, number>();
    const captured = await mapRefs(output, isFileRef, async (ref) => {
      const b = await this.blobs.add(ref.$file);
      blobs.set(b.sha, b.size);
      sources.set(b.sha, ref.$file);
      return { $blob: b.sha, name: basename(ref.$file) } satisfies BlobRef;
    });
    const outputJson = JSON.stringify(captured);
    const list: Blob[] = [...blobs].map(([sha, size]) => ({ sha, size }));
    const jsonBytes = Buffer.byteLength(outputJson);
    const total = jsonBytes + list.reduce((n, b) => n + b.size, 0);
    if (total > this.limits.maxBytes) {
      // Larger than the whole budget: storing it would only evict everything else, then itself.
      const orphans = (await this.o.conn.script(CACHE_UNREF, this.indexKeys, [
        ...this.fixedArgs(),
        ...blobs.keys(),
      ])) as string[];
      await this.remove(orphans);
      return;
    }
    const pairs = list.flatMap((b) => [b.sha, b.size]);
    const [redo, orphans] = (await this.o.conn.script(CACHE_PUT, this.indexKeys, [
      ...this.fixedArgs(),
      key,
      outputJson,
      JSON.stringify(list),
      jsonBytes,
      this.limits.maxBytes,
      ...pairs,
    ])) as [string[], string[]];
    await this.remove(orphans);
    // Referenced now, so nobody deletes these any more: put back any a deleter took meanwhile.
    for (const [sha] of blobs) {
      if (redo.includes(sha)) await this.untilDeleted(sha);
      if ((await this.blobs.size(sha)) === null) await this.blobs.add(sources.get(sha)!);
    }
  }

  materialize(entry: CacheEntry, dir: string): Promise<unknown> {
    return this.blobs.materialize(entry.output, dir);
  }

  async stats(): Promise<CacheStats> {
    const k = this.o.keys;
    const [entries, bytes, evictions] = (await this.o.conn.pipeline([
      ["ZCARD", k.lru],
      ["GET", k.bytes],
      ["HGET", k.stats, "evictions"],
    ])) as [number, string | null, string | null];
    return { entries: Number(entries), bytes: Number(bytes ?? 0), evictions: Number(evictions ?? 0) };
  }

  recordLookup(hit: boolean): void {
    this.o.conn
      .call("HINCRBY", this.o.keys.stats, hit ? "hits" : "misses", 1)
      .catch((err: unknown) => this.o.logger.debug("could not count a cache lookup", { err }));
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.all([...this.background]);
    if (this.o.ownsConnection) await this.o.conn.close();
  }

  /**
   * Deletes blob files no entry references, written more than `graceMs` ago (a put in progress has
   * written its files but not yet stored its entry), and temp files of crashed writers. Races leave
   * such files behind (an entry evicted while its writer was putting a file back); every replica runs
   * this at start and then every `SWEEP_EVERY_MS`, safely at the same time.
   */
  async sweep(graceMs: number = SWEEP_GRACE_MS): Promise<number> {
    const before = Date.now() - graceMs;
    const old: string[] = [];
    for (const sub of await readdir(this.o.dir).catch(() => [] as string[])) {
      const path = join(this.o.dir, sub);
      if (sub.startsWith(".tmp-")) {
        if ((await mtime(path)) < before) await rm(path, { force: true });
        continue;
      }
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(path).catch(() => [] as string[]))
        if (/^[0-9a-f]{64}$/.test(name) && (await mtime(join(path, name))) < before) old.push(name);
    }
    let removed = 0;
    for (let i = 0; i < old.length; i += 200) {
      const orphans = (await this.o.conn.script(CACHE_UNREF, this.indexKeys, [
        ...this.fixedArgs(),
        ...old.slice(i, i + 200),
      ])) as string[];
      await this.remove(orphans);
      removed += orphans.length;
    }
    return removed;
  }

  /** Sweeps now (in the background) and every `everyMs` until close(). */
  startSweeping(everyMs: number = SWEEP_EVERY_MS): void {
    const run = (): void => {
      const job = this.sweep()
        .then((n) => {
          if (n > 0) this.o.logger.info("removed unreferenced cache blobs", { count: n, dir: this.o.dir });
        })
        .catch((err: unknown) => this.o.logger.warn("could not sweep the cache's blob directory", { err }))
        .finally(() => this.background.delete(job));
      this.background.add(job);
    };
    run();
    this.sweeper = setInterval(run, everyMs);
    this.sweeper.unref();
  }

  private async acquire(key: string): Promise<(() => Promise<void>) | null> {
    const lock = this.o.keys.flight(key);
    const token = randomBytes(8).toString("hex");
    if ((await this.o.conn.call("SET", lock, token, "NX", "PX", this.lockMs)) !== "OK") return null;
    const renew = setInterval(
      () =>
        void this.o.conn
          .script(FLIGHT_RENEW, [lock], [token, this.lockMs])
          .catch((err: unknown) => this.o.logger.debug("could not renew a cache flight lock", { err })),
      Math.max(50, Math.floor(this.lockMs / 3)),
    );
    renew.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      await this.o.conn.script(FLIGHT_RELEASE, [lock], [token]);
    };
  }

  /** Polls (5 ms, doubling to 100 ms): the holder's release or the lock's expiry both end the wait. */
  private async waitReleased(key: string, signal?: AbortSignal): Promise<void> {
    const lock = this.o.keys.flight(key);
    for (let delay = 5; !signal?.aborted; delay = Math.min(delay * 2, 100)) {
      if (Number(await this.o.conn.call("EXISTS", lock)) === 0) return;
      await pause(delay, signal);
    }
  }

  private async untilDeleted(sha: string): Promise<void> {
    const mark = this.o.keys.deleting(sha);
    for (
      let delay = 5;
      Number(await this.o.conn.call("EXISTS", mark)) === 1;
      delay = Math.min(delay * 2, 100)
    )
      await pause(delay);
  }

  /** Unlinks blobs a script marked for deletion, then clears each mark. */
  private async remove(shas: readonly string[]): Promise<void> {
    for (const sha of shas) {
      await this.blobs.remove(sha);
      await this.o.conn.call("DEL", this.o.keys.deleting(sha));
    }
  }

  private removeInBackground(shas: readonly string[]): void {
    if (shas.length === 0) return;
    const job = this.remove(shas)
      .catch((err: unknown) => this.o.logger.warn("could not delete expired cache blobs", { err }))
      .finally(() => this.background.delete(job));
    this.background.add(job);
  }
}

function mtime(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.mtimeMs,
    () => Infinity,
  );
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The gateway's view of the fleet's store: counters every replica adds to in Redis (hits, misses,
 * stores, evictions, expired) and the store's size. Zero while no replica caches.
 */
export function addFleetCacheMetrics(metrics: MetricsRegistry, conn: RedisConnection, keys: CacheKeys): void {
  const read = async (): Promise<Record<string, number>> => {
    const [stats, entries, bytes] = (await conn.pipeline([
      ["HGETALL", keys.stats],
      ["ZCARD", keys.lru],
      ["GET", keys.bytes],
    ])) as [string[], number, string | null];
    const flat = pairs(stats);
    const out: Record<string, number> = { entries: Number(entries), bytes: Number(bytes ?? 0) };
    for (const name of ["hits", "misses", "stores", "evictions", "expired"])
      out[name] = Number(flat[name] ?? 0);
    return out;
  };
  // Read once per scrape: the first family of the group reads, the others reuse its reading.
  let snapshot: Promise<Record<string, number>> | null = null;
  const get = (first: boolean): Promise<Record<string, number>> => {
    if (first || !snapshot) snapshot = read();
    return snapshot;
  };
  let families = 0;
  const family = (name: string, field: string, help: string, type: "counter" | "gauge" = "counter"): void => {
    const first = families++ === 0;
    metrics.gauge(name, help, async () => [{ value: (await get(first))[field] ?? 0 }], type);
  };
  family(
    "kiln_fleet_cache_hits_total",
    "hits",
    "Predictions any replica answered from the fleet's output cache.",
  );
  family(
    "kiln_fleet_cache_misses_total",
    "misses",
    "Cacheable predictions a replica ran (not in the cache).",
  );
  family("kiln_fleet_cache_stores_total", "stores", "Outputs replicas wrote to the fleet's cache.");
  family("kiln_fleet_cache_evictions_total", "evictions", "Entries evicted to stay within the byte budget.");
  family("kiln_fleet_cache_expired_total", "expired", "Entries dropped after their time to live.");
  family("kiln_fleet_cache_bytes", "bytes", "Bytes the fleet's cache holds (entries and blobs).", "gauge");
  family("kiln_fleet_cache_entries", "entries", "Entries in the fleet's cache.", "gauge");
}
