/**
 * The fleet's output cache store against a real redis-server: entries and blobs shared by several
 * writers (each with its own connection, as replicas have), LRU eviction by bytes that stays exact with
 * writers racing, time to live, and the single-flight lock that lapses when its holder dies.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeKeys } from "../../src/fleet/keys.js";
import type { RedisCacheStore } from "../../src/fleet/redis-cache-store.js";
import { pairs, RedisConnection } from "../../src/fleet/redis.js";
import { openStore, quiet } from "./cache-fleet-helpers.js";
import { startRedis, type RedisInstance } from "./fleet-helpers.js";

let redis: RedisInstance;
let root = "";
let admin: RedisConnection;
const stores: RedisCacheStore[] = [];
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), "kiln-fleet-cache-store-"));
  admin = new RedisConnection(redis.url, { offlineQueue: true, name: "kiln-test-admin", logger: quiet });
  await admin.waitReady(10_000);
});
afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  await admin?.close();
  await redis?.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** A fresh fleet (prefix and blob dir) with `count` writers. */
async function fleet(count: number, o: Parameters<typeof openStore>[2] = {}) {
  const prefix = `t${n++}:`;
  const dir = join(root, prefix.slice(0, -1));
  const writers: RedisCacheStore[] = [];
  for (let i = 0; i < count; i++) writers.push(await openStore(redis.url, dir, { ...o, prefix }));
  stores.push(...writers);
  return { writers, dir, keys: makeKeys(prefix).cache };
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A worker-style file output. */
async function file(content: string, name = "out.png"): Promise<{ $file: string }> {
  const dir = await mkdtemp(join(root, "src-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return { $file: path };
}

async function blobsOnDisk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(dir).catch(() => [] as string[])) {
    if (sub.startsWith(".")) continue;
    for (const f of await readdir(join(dir, sub))) if (!f.startsWith(".")) out.push(f);
  }
  return out.sort();
}

describe("the fleet cache store", () => {
  it("serves what one writer stored to another, file outputs copied out of the shared blob directory", async () => {
    const { writers, dir } = await fleet(2);
    const [a, b] = writers as [RedisCacheStore, RedisCacheStore];
    expect(await b.get("k")).toBeNull();
    await a.put("k", { caption: "a cat", image: await file("PNG-bytes", "cat.png") });
    const entry = await b.get("k");
    expect(entry).not.toBeNull();
    expect(entry!.bytes).toBeGreaterThan("PNG-bytes".length);
    expect(await blobsOnDisk(dir)).toEqual([sha("PNG-bytes")]);
    const out = (await b.materialize(entry!, await mkdtemp(join(root, "hit-")))) as {
      caption: string;
      image: { $file: string };
    };
    expect(out.caption).toBe("a cat");
    expect(basename(out.image.$file)).toBe("cat.png");
    expect(await readFile(out.image.$file, "utf8")).toBe("PNG-bytes");
    expect(await b.get("other")).toBeNull();
    expect(await a.stats()).toEqual({ entries: 1, bytes: entry!.bytes, evictions: 0 });
  });

  it("evicts the least recently used entry by bytes, whichever writer used or stored it", async () => {
    const { writers, dir } = await fleet(2, { limits: { maxBytes: 2_500 } });
    const [a, b] = writers as [RedisCacheStore, RedisCacheStore];
    await a.put("one", await file("1".repeat(1000)));
    await b.put("two", await file("2".repeat(1000)));
    expect(await b.get("one")).not.toBeNull(); // "one" is now used more recently than "two"
    await a.put("three", await file("3".repeat(1000)));
    expect(await a.get("two")).toBeNull();
    expect(await b.get("one")).not.toBeNull();
    expect(await b.get("three")).not.toBeNull();
    const stats = await b.stats();
    expect(stats.evictions).toBe(1);
    expect(stats.entries).toBe(2);
    expect(stats.bytes).toBeLessThanOrEqual(2_500);
    expect(await blobsOnDisk(dir)).toEqual([sha("1".repeat(1000)), sha("3".repeat(1000))].sort());
  });

  it("keeps the byte count, references and blob files exact while two writers race", async () => {
    const { writers, dir, keys } = await fleet(2, { limits: { maxBytes: 6_000 } });
    // 40 puts of 10 keys, the blob contents shared between keys, from both writers at once.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const w = writers[i % 2]!;
        await w.put(`k${i % 10}`, [await file(`content-${i % 7}`.padEnd(900, ".")), { i }]);
        await w.get(`k${(i * 3) % 10}`);
      }),
    );
    for (const w of writers) await w.close(); // background deletions finished
    const lru = (await admin.call("ZRANGE", keys.lru, 0, -1)) as string[];
    let bytes = 0;
    const refs = new Map<string, number>();
    const sizes = new Map<string, number>();
    for (const k of lru) {
      const [blobs, jsonBytes] = (await admin.call(
        "HMGET",
        keys.entry(k),
        "blobs",
        "json_bytes",
      )) as string[];
      bytes += Number(jsonBytes);
      for (const b of JSON.parse(blobs!) as { sha: string; size: number }[]) {
        refs.set(b.sha, (refs.get(b.sha) ?? 0) + 1);
        sizes.set(b.sha, b.size);
      }
    }
    for (const size of sizes.values()) bytes += size;
    expect(Number(await admin.call("GET", keys.bytes))).toBe(bytes);
    expect(bytes).toBeLessThanOrEqual(6_000);
    const stored = pairs((await admin.call("HGETALL", keys.refs)) as string[]);
    expect(stored).toEqual(Object.fromEntries([...refs].map(([s, c]) => [s, String(c)])));
    // Every blob an entry references is there; a race may leave unreferenced ones, which a sweep takes.
    const referenced = [...refs.keys()].sort();
    expect(await blobsOnDisk(dir)).toEqual(expect.arrayContaining(referenced));
    const sweeper = await openStore(redis.url, dir, { prefix: writersPrefix(keys.prefix) });
    stores.push(sweeper);
    const extra = (await blobsOnDisk(dir)).length - referenced.length;
    expect(await sweeper.sweep(0)).toBe(extra);
    expect(await blobsOnDisk(dir)).toEqual(referenced);
    expect(await admin.call("KEYS", keys.deleting("*"))).toEqual([]);
    expect(Number(await admin.call("HGET", keys.stats, "evictions"))).toBeGreaterThan(0);
  });

  it("drops entries past their time to live, and their blobs", async () => {
    let now = 1_000_000;
    const { writers, dir } = await fleet(1, { limits: { ttlMs: 60_000 }, now: () => now });
    const [a] = writers as [RedisCacheStore];
    await a.put("old", await file("old-bytes"));
    now += 30_000;
    expect(await a.get("old")).not.toBeNull(); // a use does not extend the time to live
    now += 30_001;
    expect(await a.get("old")).toBeNull();
    expect((await a.stats()).entries).toBe(0);
    await a.close(); // after the blob deletions it started
    expect(await blobsOnDisk(dir)).toEqual([]);
  });

  it("does not store an output larger than the budget, nor leave its blob behind", async () => {
    const { writers, dir } = await fleet(1, { limits: { maxBytes: 500 } });
    const [a] = writers as [RedisCacheStore];
    await a.put("small", await file("s".repeat(100)));
    await a.put("huge", await file("h".repeat(1000)));
    expect(await a.get("huge")).toBeNull();
    expect(await a.get("small")).not.toBeNull();
    expect(await blobsOnDisk(dir)).toEqual([sha("s".repeat(100))]);
  });

  it("keeps a blob two entries share until the last goes, also when an entry is replaced by the same output", async () => {
    const { writers, dir } = await fleet(2, { limits: { maxBytes: 10_000 } });
    const [a, b] = writers as [RedisCacheStore, RedisCacheStore];
    await a.put("x", await file("shared"));
    await b.put("y", await file("shared"));
    await a.put("x", await file("shared")); // a refresh with the same file
    expect(await blobsOnDisk(dir)).toEqual([sha("shared")]);
    expect((await a.stats()).bytes).toBe(((await a.get("x"))!.bytes - 6) * 2 + 6);
  });

  it("treats an entry whose blob vanished from the directory as a miss, and forgets it", async () => {
    const { writers, dir } = await fleet(1);
    const [a] = writers as [RedisCacheStore];
    await a.put("k", await file("will-vanish"));
    await rm(join(dir, sha("will-vanish").slice(0, 2)), { recursive: true });
    expect(await a.get("k")).toBeNull();
    expect((await a.stats()).entries).toBe(0);
  });

  it("single flight: one holder per key; the lock goes on release, or lapses when its holder dies", async () => {
    const { writers } = await fleet(2, { lockMs: 400 });
    const [a, b] = writers as [RedisCacheStore, RedisCacheStore];
    const release = await a.flights.acquire("key");
    expect(release).not.toBeNull();
    expect(await b.flights.acquire("key")).toBeNull();
    const waited = b.flights.waitReleased("key");
    await release!();
    await waited;
    expect(await b.flights.acquire("key")).not.toBeNull(); // b holds it now, renewing it

    // A holder that dies (its connection gone, so no renewals) holds the key for lockMs at most.
    const dying = await openStore(redis.url, join(root, "dying"), { lockMs: 400, prefix: "dead:" });
    const survivor = await openStore(redis.url, join(root, "dying"), { lockMs: 400, prefix: "dead:" });
    stores.push(survivor);
    expect(await dying.flights.acquire("k2")).not.toBeNull();
    await dying.close();
    const started = Date.now();
    await survivor.flights.waitReleased("k2");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await survivor.flights.acquire("k2")).not.toBeNull();
  });

  it("a wait ends when its signal aborts (a canceled prediction)", async () => {
    const { writers } = await fleet(2, { lockMs: 60_000 });
    const [a, b] = writers as [RedisCacheStore, RedisCacheStore];
    expect(await a.flights.acquire("held")).not.toBeNull();
    const abort = new AbortController();
    const waiting = b.flights.waitReleased("held", abort.signal);
    abort.abort();
    await waiting;
    expect(await b.flights.acquire("held")).toBeNull();
  });
});

/** The fleet prefix of a cache prefix (`t2:cache:` -> `t2:`). */
function writersPrefix(cachePrefix: string): string {
  return cachePrefix.slice(0, -"cache:".length);
}
