// The output cache through a real server and the real node worker: hits, misses on any change,
// Cache-Control, failures never cached, single flight, eviction by bytes, file outputs served again.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../../src/runtime/server.js";
import { request, startFixture } from "../helpers.js";

let dir = "";
const servers: RunningServer[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-cache-server-"));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function serve(
  predictor: string,
  cache: { version?: string; maxBytes?: number; dir?: string } = {},
): Promise<string> {
  const server = await startFixture(predictor, {
    maxConcurrency: 10,
    cache: { dir: cache.dir ?? join(dir, `store-${n++}`), version: cache.version ?? "v1", ...cache },
  });
  servers.push(server);
  return server.url;
}

const dataUri = (text: string): string => `data:text/plain;base64,${Buffer.from(text).toString("base64")}`;

async function predict(
  url: string,
  input: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: string; output: string; metrics: Record<string, unknown>; error: string | null }> {
  const r = await request(url, "/predictions", { body: { input }, headers });
  expect(r.status).toBe(200);
  return r.body;
}

const run = (output: string): string => /run=(\d+)/.exec(output)?.[1] ?? "?";

describe("the output cache", () => {
  it("answers the same input to the same version from the cache, marked as a hit", async () => {
    const url = await serve("cached");
    const first = await predict(url, { prompt: "a cat", seed: 1 });
    expect(first.status).toBe("succeeded");
    expect(first.metrics.cache_hit).toBe(false);
    const again = await predict(url, { seed: 1, prompt: "a cat" });
    expect(again.output).toBe(first.output);
    expect(again.metrics.cache_hit).toBe(true);
    // Defaults filled in: naming the default explicitly is the same input.
    const explicit = await predict(url, { prompt: "a cat", seed: 1, delay_ms: 0 });
    expect(run(explicit.output)).toBe(run(first.output));
  });

  it("runs again when any input value changes, or a file input's content does", async () => {
    const url = await serve("cached");
    const base = await predict(url, { prompt: "p", seed: 1, image: dataUri("one") });
    const seeds = await predict(url, { prompt: "p", seed: 2, image: dataUri("one") });
    const prompt = await predict(url, { prompt: "q", seed: 1, image: dataUri("one") });
    const content = await predict(url, { prompt: "p", seed: 1, image: dataUri("two") });
    const runs = [base, seeds, prompt, content].map((r) => run(r.output));
    expect(new Set(runs).size).toBe(4);
    // Same file content under another name and type is still the same input.
    const renamed = await predict(url, {
      prompt: "p",
      seed: 1,
      image: `data:application/octet-stream;base64,${Buffer.from("one").toString("base64")}`,
    });
    expect(run(renamed.output)).toBe(run(base.output));
  });

  it("keys by version: another version never sees this one's outputs", async () => {
    const store = join(dir, "shared-versions");
    const v1 = await serve("cached", { dir: store, version: "sha256:aaa" });
    const first = await predict(v1, { prompt: "x", seed: 1 });
    for (const s of servers.splice(0)) await s.close();
    const v2 = await serve("cached", { dir: store, version: "sha256:bbb" });
    const other = await predict(v2, { prompt: "x", seed: 1 });
    // A new worker numbers its runs from 1 again, so the flag, not the output, tells a hit.
    expect(other.metrics.cache_hit).toBe(false);
    // The first version's entry survived the restart of the store.
    for (const s of servers.splice(0)) await s.close();
    const v1again = await serve("cached", { dir: store, version: "sha256:aaa" });
    expect((await predict(v1again, { prompt: "x", seed: 1 })).output).toBe(first.output);
  });

  it("leaves a seed to the model uncached, and honours Cache-Control no-store and no-cache", async () => {
    const url = await serve("cached");
    const a = await predict(url, { prompt: "random" });
    const b = await predict(url, { prompt: "random" });
    expect(run(a.output)).not.toBe(run(b.output));
    expect(a.metrics.cache_hit).toBeUndefined();

    const stored = await predict(url, { prompt: "s", seed: 5 });
    const bypass = await predict(url, { prompt: "s", seed: 5 }, { "cache-control": "no-store" });
    expect(run(bypass.output)).not.toBe(run(stored.output));
    const hit = await predict(url, { prompt: "s", seed: 5 });
    expect(hit.output).toBe(stored.output); // no-store wrote nothing
    const refreshed = await predict(url, { prompt: "s", seed: 5 }, { "cache-control": "no-cache" });
    expect(run(refreshed.output)).not.toBe(run(stored.output));
    expect((await predict(url, { prompt: "s", seed: 5 })).output).toBe(refreshed.output);
  });

  it("never caches a failed prediction", async () => {
    const url = await serve("cached");
    const failed = await predict(url, { prompt: "f", seed: 1, fail: true });
    expect(failed.status).toBe("failed");
    const again = await predict(url, { prompt: "f", seed: 1, fail: true });
    expect(again.status).toBe("failed");
    expect(again.error).not.toBe(failed.error); // ran again: another run number in the message
  });

  it("runs ten identical concurrent requests once", async () => {
    const url = await serve("cached");
    const all = await Promise.all(
      Array.from({ length: 10 }, () => predict(url, { prompt: "together", seed: 3, delay_ms: 300 })),
    );
    expect(all.every((r) => r.status === "succeeded")).toBe(true);
    expect(new Set(all.map((r) => r.output)).size).toBe(1);
    expect(all.filter((r) => r.metrics.cache_hit === false)).toHaveLength(1);
  });

  it("counts hits, misses, skips, stores, bytes and evictions in /metrics", async () => {
    const url = await serve("cachedFile", { maxBytes: 2_500 });
    const scrape = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toContain("# TYPE kiln_cache_hits_total counter");
      expect(text).toContain("# TYPE kiln_cache_bytes gauge");
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^(kiln_cache_[a-z_]+) (\d+)$/gm)) out[m[1]!] = Number(m[2]);
      return out;
    };
    await predict(url, { prompt: "m", bytes: 1_000 });
    await predict(url, { prompt: "m", bytes: 1_000 });
    await predict(url, { prompt: "m", bytes: 1_000 }, { "cache-control": "no-store" });
    expect(await scrape()).toMatchObject({
      kiln_cache_hits_total: 1,
      kiln_cache_misses_total: 1,
      kiln_cache_skipped_total: 1,
      kiln_cache_stores_total: 1,
      kiln_cache_errors_total: 0,
      kiln_cache_evictions_total: 0,
      kiln_cache_entries: 1,
    });
    expect((await scrape()).kiln_cache_bytes).toBeGreaterThanOrEqual(1_000);
    await predict(url, { prompt: "n", bytes: 1_000 });
    await predict(url, { prompt: "o", bytes: 1_000 }); // over 2,500 bytes: "m" goes
    expect(await scrape()).toMatchObject({ kiln_cache_evictions_total: 1, kiln_cache_entries: 2 });
  });

  it("serves a cached file output again as a file, and evicts by bytes", async () => {
    const url = await serve("cachedFile", { maxBytes: 2_500 });
    const first = await predict(url, { prompt: "img", bytes: 1_000 });
    expect(first.output).toMatch(/^data:image\/png;base64,/);
    const hit = await predict(url, { prompt: "img", bytes: 1_000 });
    expect(hit.metrics.cache_hit).toBe(true);
    expect(hit.output).toBe(first.output);
    await predict(url, { prompt: "second", bytes: 1_000 });
    await predict(url, { prompt: "third", bytes: 1_000 }); // over 2,500 bytes: "img" is the oldest
    const evicted = await predict(url, { prompt: "img", bytes: 1_000 });
    expect(evicted.metrics.cache_hit).toBe(false);
    expect(evicted.output).not.toBe(first.output);
  });

  it("replays a cached iterator output chunk by chunk", async () => {
    const url = await serve("stream");
    const first = await predict(url, { n: 3, delay: 1 });
    const again = await predict(url, { n: 3, delay: 1 });
    expect(again.metrics.cache_hit).toBe(true);
    expect(again.output).toEqual(first.output);
    expect(Array.isArray(again.output)).toBe(true);
  });

  it("answers /v1 predictions from the same cache, with Cache-Control honoured there too", async () => {
    const url = await serve("cached");
    const create = async (headers: Record<string, string> = {}) =>
      (
        await request(url, "/v1/predictions", {
          body: { version: "any", input: { prompt: "hosted", seed: 9 } },
          headers: { prefer: "wait", ...headers },
        })
      ).body as { id: string; output: string; metrics: Record<string, unknown> };
    const first = await create();
    const hit = await create();
    expect(hit.id).not.toBe(first.id);
    expect(hit.output).toBe(first.output);
    expect(hit.metrics.cache_hit).toBe(true);
    expect((await create({ "cache-control": "no-store" })).metrics.cache_hit).toBeUndefined();
  });
});
