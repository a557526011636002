import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirCacheStore } from "../../../src/runtime/cache/dir-store.js";

let dir = "";
let clock = 1_000_000;
const now = (): number => clock;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-cache-test-"));
  clock = 1_000_000;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, bytes: number, fill = 97): Promise<string> {
  const sub = await mkdtemp(join(dir, "out-"));
  const path = join(sub, name);
  await writeFile(path, Buffer.alloc(bytes, fill));
  return path;
}

describe("the directory cache store", () => {
  it("keeps file outputs as blobs and serves them again under their own names", async () => {
    const store = await DirCacheStore.open(join(dir, "cache"), {}, now);
    const out = await fileOf("image.png", 1000);
    await store.put("k1", { images: [{ $file: out }], caption: "a cat" });
    const entry = await store.get("k1");
    expect(entry).not.toBeNull();
    const served = (await store.materialize(entry!, join(dir, "served"))) as {
      images: { $file: string }[];
      caption: string;
    };
    expect(served.caption).toBe("a cat");
    expect(served.images[0]!.$file).toMatch(/image\.png$/);
    expect(served.images[0]!.$file).not.toBe(out);
    expect((await readFile(served.images[0]!.$file)).equals(Buffer.alloc(1000, 97))).toBe(true);
  });

  it("evicts the least recently used entries once the byte budget is exceeded", async () => {
    const store = await DirCacheStore.open(join(dir, "cache"), { maxBytes: 2500 }, now);
    await store.put("a", { $file: await fileOf("a.bin", 1000, 1) });
    clock++;
    await store.put("b", { $file: await fileOf("b.bin", 1000, 2) });
    clock++;
    expect(await store.get("a")).not.toBeNull(); // a is now more recent than b
    clock++;
    await store.put("c", { $file: await fileOf("c.bin", 1000, 3) });
    expect(await store.get("b")).toBeNull();
    expect(await store.get("a")).not.toBeNull();
    expect(await store.get("c")).not.toBeNull();
    const stats = await store.stats();
    expect(stats).toMatchObject({ entries: 2, evictions: 1 });
    expect(stats.bytes).toBeLessThanOrEqual(2500);
    // b's blob is gone from disk too.
    const shards = await readdir(join(dir, "cache", "blobs"));
    const blobs = (await Promise.all(shards.map((s) => readdir(join(dir, "cache", "blobs", s))))).flat();
    expect(blobs).toHaveLength(2);
  });

  it("shares one blob between entries with the same file and removes it with the last of them", async () => {
    const store = await DirCacheStore.open(join(dir, "cache"), {}, now);
    await store.put("x", { $file: await fileOf("same.bin", 500) });
    await store.put("y", { $file: await fileOf("same.bin", 500) });
    expect((await store.stats()).bytes).toBeLessThan(1000);
    await store.put("x", "replaced");
    const y = await store.get("y");
    expect(y).not.toBeNull();
    await store.materialize(y!, join(dir, "served"));
  });

  it("forgets entries past their time to live", async () => {
    const store = await DirCacheStore.open(join(dir, "cache"), { ttlMs: 1000 }, now);
    await store.put("old", "output");
    clock += 1001;
    expect(await store.get("old")).toBeNull();
    expect((await store.stats()).entries).toBe(0);
  });

  it("never stores an entry larger than the whole budget", async () => {
    const store = await DirCacheStore.open(join(dir, "cache"), { maxBytes: 100 }, now);
    await store.put("small", "ok");
    await store.put("big", { $file: await fileOf("big.bin", 1000) });
    expect(await store.get("big")).toBeNull();
    expect(await store.get("small")).not.toBeNull();
    expect((await store.stats()).evictions).toBe(0);
  });

  it("reads its index back when reopened, dropping unreadable entries", async () => {
    const first = await DirCacheStore.open(join(dir, "cache"), {}, now);
    await first.put("kept", { $file: await fileOf("f.txt", 10) });
    await writeFile(join(dir, "cache", "entries", "broken.json"), "{not json");
    const again = await DirCacheStore.open(join(dir, "cache"), {}, now);
    expect(await again.get("kept")).not.toBeNull();
    expect((await again.stats()).entries).toBe(1);
    expect(await readdir(join(dir, "cache", "entries"))).toEqual(["kept.json"]);
  });
});
