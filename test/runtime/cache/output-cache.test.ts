// OutputCache's lookups over a store shared with other processes (a flight lock), and over a store
// that fails: pure logic against an in-memory store.
import { describe, expect, it } from "vitest";
import { OutputCache } from "../../../src/runtime/cache/output-cache.js";
import type { CacheEntry, CacheStats, CacheStore, FlightLock } from "../../../src/runtime/cache/store.js";

/** Entries in a map; a flight lock another "process" can hold; lookups recorded. */
class MemoryStore implements CacheStore {
  readonly entries = new Map<string, unknown>();
  readonly held = new Map<string, () => void>();
  readonly waiters = new Map<string, (() => void)[]>();
  readonly recorded: boolean[] = [];
  failing = false;
  readonly flights: FlightLock = {
    acquire: async (key) => {
      if (this.held.has(key)) return null;
      const release = (): void => {
        this.held.delete(key);
        for (const w of this.waiters.get(key)?.splice(0) ?? []) w();
      };
      this.held.set(key, release);
      return async () => release();
    },
    waitReleased: (key, signal) =>
      new Promise<void>((resolve) => {
        if (!this.held.has(key)) return resolve();
        signal?.addEventListener("abort", () => resolve(), { once: true });
        this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]);
      }),
  };
  async get(key: string): Promise<CacheEntry | null> {
    if (this.failing) throw new Error("Redis is away");
    return this.entries.has(key) ? { output: this.entries.get(key), bytes: 1, createdAt: 0 } : null;
  }
  async put(key: string, output: unknown): Promise<void> {
    this.entries.set(key, output);
  }
  async materialize(entry: CacheEntry): Promise<unknown> {
    return entry.output;
  }
  async stats(): Promise<CacheStats> {
    return { entries: this.entries.size, bytes: this.entries.size, evictions: 0 };
  }
  recordLookup(hit: boolean): void {
    this.recorded.push(hit);
  }
}

const never = new Promise<void>(() => undefined);

describe("OutputCache over a shared store", () => {
  it("a miss takes the flight lock until the prediction finishes", async () => {
    const store = new MemoryStore();
    const cache = new OutputCache(store, "v");
    let finish!: () => void;
    expect(await cache.lookup("k", new Promise<void>((r) => (finish = r)))).toBeNull();
    expect(store.held.has("k")).toBe(true);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(store.held.has("k")).toBe(false);
    expect(store.recorded).toEqual([false]);
  });

  it("waits while another process holds the key, then answers from what it stored", async () => {
    const store = new MemoryStore();
    const cache = new OutputCache(store, "v");
    const other = (await store.flights.acquire("k"))!;
    const waiting = cache.lookup("k", never);
    await new Promise((r) => setImmediate(r));
    await store.put("k", "from elsewhere");
    await other();
    expect((await waiting)?.output).toBe("from elsewhere");
    expect((await cache.counters()).hits).toBe(1);
    expect(store.recorded).toEqual([true]);
  });

  it("computes itself when the holder released without storing (its prediction failed)", async () => {
    const store = new MemoryStore();
    const cache = new OutputCache(store, "v");
    const other = (await store.flights.acquire("k"))!;
    const waiting = cache.lookup("k", never);
    await other();
    expect(await waiting).toBeNull();
    expect(store.held.has("k")).toBe(true); // now this one computes
    expect((await cache.counters()).misses).toBe(1);
  });

  it("stops waiting when the prediction is canceled, without a miss", async () => {
    const store = new MemoryStore();
    const cache = new OutputCache(store, "v");
    await store.flights.acquire("k");
    const abort = new AbortController();
    const waiting = cache.lookup("k", never, abort.signal);
    abort.abort();
    expect(await waiting).toBeNull();
    const c = await cache.counters();
    expect([c.hits, c.misses]).toEqual([0, 0]);
  });

  it("a store that fails counts an error and lets the prediction run", async () => {
    const store = new MemoryStore();
    store.failing = true;
    const cache = new OutputCache(store, "v");
    expect(await cache.lookup("k", never)).toBeNull();
    expect(await cache.counters()).toMatchObject({ errors: 1, hits: 0, misses: 0 });
    // The next identical lookup is not left waiting on the failed one.
    store.failing = false;
    expect(await cache.lookup("k", never)).toBeNull();
    expect((await cache.counters()).misses).toBe(1);
  });
});
