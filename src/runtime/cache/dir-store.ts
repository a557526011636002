/**
 * The output cache on local disk, for `kiln serve --cache[=DIR]`: entries as JSON files named by key,
 * file outputs as content-addressed blobs, least recently used entries evicted beyond a byte budget,
 * entries past their time-to-live dropped. One server process owns a directory.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BlobDir } from "./blobs.js";
import {
  DEFAULT_CACHE_LIMITS,
  type CacheEntry,
  type CacheLimits,
  type CacheStats,
  type CacheStore,
} from "./store.js";

interface Stored extends CacheEntry {
  key: string;
  blobs: { sha: string; size: number }[];
  usedAt: number;
}

interface Indexed {
  bytes: number;
  createdAt: number;
  usedAt: number;
  blobs: { sha: string; size: number }[];
}

/** An entry file, or null when it is missing or not JSON (a crash mid-write, a stray file). */
async function readEntry(file: string): Promise<Stored | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Stored;
  } catch {
    return null;
  }
}

export class DirCacheStore implements CacheStore {
  private readonly index = new Map<string, Indexed>();
  /** How many entries hold each blob: a blob goes when its last entry does. */
  private readonly blobRefs = new Map<string, { count: number; size: number }>();
  private readonly blobs: BlobDir;
  private readonly entriesDir: string;
  private evictions = 0;
  private jsonBytes = 0;

  private constructor(
    readonly dir: string,
    private readonly limits: CacheLimits,
    private readonly now: () => number,
  ) {
    this.blobs = new BlobDir(join(dir, "blobs"));
    this.entriesDir = join(dir, "entries");
  }

  /** Opens (or creates) a cache directory and reads its index; unreadable entries are dropped. */
  static async open(
    dir: string,
    limits: Partial<CacheLimits> = {},
    now: () => number = Date.now,
  ): Promise<DirCacheStore> {
    const store = new DirCacheStore(dir, { ...DEFAULT_CACHE_LIMITS, ...limits }, now);
    await mkdir(store.entriesDir, { recursive: true });
    for (const name of await readdir(store.entriesDir)) {
      if (!name.endsWith(".json")) continue;
      const file = join(store.entriesDir, name);
      const entry = await readEntry(file);
      if (!entry || typeof entry.key !== "string" || `${entry.key}.json` !== name) {
        await rm(file, { force: true });
        continue;
      }
      store.track(entry.key, entry);
    }
    await store.enforce();
    return store;
  }

  private track(key: string, e: Indexed & { bytes: number }): void {
    this.index.set(key, { bytes: e.bytes, createdAt: e.createdAt, usedAt: e.usedAt, blobs: e.blobs });
    const blobBytes = e.blobs.reduce((n, b) => n + b.size, 0);
    this.jsonBytes += e.bytes - blobBytes;
    for (const b of e.blobs) {
      const ref = this.blobRefs.get(b.sha) ?? { count: 0, size: b.size };
      ref.count++;
      this.blobRefs.set(b.sha, ref);
    }
  }

  private totalBytes(): number {
    let blobs = 0;
    for (const r of this.blobRefs.values()) blobs += r.size;
    return this.jsonBytes + blobs;
  }

  private async drop(key: string, evicted: boolean): Promise<void> {
    const e = this.index.get(key);
    if (!e) return;
    this.index.delete(key);
    this.jsonBytes -= e.bytes - e.blobs.reduce((n, b) => n + b.size, 0);
    await rm(join(this.entriesDir, `${key}.json`), { force: true });
    for (const b of e.blobs) {
      const ref = this.blobRefs.get(b.sha);
      if (!ref) continue;
      if (--ref.count <= 0) {
        this.blobRefs.delete(b.sha);
        await this.blobs.remove(b.sha);
      }
    }
    if (evicted) this.evictions++;
  }

  /** Drops expired entries, then the least recently used until the budget holds. */
  private async enforce(): Promise<void> {
    const now = this.now();
    for (const [key, e] of [...this.index])
      if (now - e.createdAt > this.limits.ttlMs) await this.drop(key, false);
    if (this.totalBytes() <= this.limits.maxBytes) return;
    const byUse = [...this.index].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key] of byUse) {
      if (this.totalBytes() <= this.limits.maxBytes) break;
      await this.drop(key, true);
    }
  }

  async get(key: string): Promise<CacheEntry | null> {
    const e = this.index.get(key);
    if (!e) return null;
    if (this.now() - e.createdAt > this.limits.ttlMs) {
      await this.drop(key, false);
      return null;
    }
    const stored = await readEntry(join(this.entriesDir, `${key}.json`));
    // A blob removed behind our back makes the entry useless: forget it rather than serve half.
    if (!stored || (await Promise.all(stored.blobs.map((b) => this.blobs.size(b.sha)))).includes(null)) {
      await this.drop(key, false);
      return null;
    }
    e.usedAt = this.now();
    return { output: stored.output, bytes: stored.bytes, createdAt: stored.createdAt };
  }

  async put(key: string, output: unknown): Promise<void> {
    if (this.index.has(key)) await this.drop(key, false);
    const captured = await this.blobs.capture(output);
    const now = this.now();
    const json = JSON.stringify(captured.output);
    const bytes = Buffer.byteLength(json) + captured.blobs.reduce((n, b) => n + b.size, 0);
    if (bytes > this.limits.maxBytes) {
      // Larger than the whole budget: storing it would only evict everything else, then itself.
      for (const b of captured.blobs) if (!this.blobRefs.has(b.sha)) await this.blobs.remove(b.sha);
      return;
    }
    const entry: Stored = {
      key,
      output: captured.output,
      blobs: captured.blobs,
      bytes,
      createdAt: now,
      usedAt: now,
    };
    const tmp = join(this.entriesDir, `.tmp-${randomBytes(8).toString("hex")}`);
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, join(this.entriesDir, `${key}.json`));
    this.track(key, entry);
    await this.enforce();
  }

  materialize(entry: CacheEntry, dir: string): Promise<unknown> {
    return this.blobs.materialize(entry.output, dir);
  }

  async stats(): Promise<CacheStats> {
    return { entries: this.index.size, bytes: this.totalBytes(), evictions: this.evictions };
  }
}
