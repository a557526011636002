/**
 * The output cache in a fleet: a gateway and queue-mode replicas on a real redis-server, each replica
 * with its own connection to the shared store and the same blob directory. Hits across replicas, misses
 * on any change, Cache-Control carried through the queue, failures and cancels never cached, single
 * flight across replicas (and a dead holder's lock lapsing), and the counters in /metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeKeys } from "../../src/fleet/keys.js";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { RedisConnection } from "../../src/fleet/redis.js";
import { cacheKey } from "../../src/runtime/cache/key.js";
import { bundleServerEntry, fixtureProject } from "../runtime/helpers.js";
import { metric, openStore, quiet } from "./cache-fleet-helpers.js";
import {
  fleetPort,
  startRedis,
  startReplica,
  startTestGateway,
  until,
  type RedisInstance,
  type TestReplica,
} from "./fleet-helpers.js";

let redis: RedisInstance;
let root = "";
let admin: RedisConnection;
let gateway: RunningGateway;
const replicas: TestReplica[] = [];
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), "kiln-fleet-cache-"));
  admin = new RedisConnection(redis.url, { offlineQueue: true, name: "kiln-test-admin", logger: quiet });
  await admin.waitReady(10_000);
  gateway = await startTestGateway(redis.url);
});
afterEach(async () => {
  for (const r of replicas.splice(0)) await r.close();
});
afterAll(async () => {
  await gateway?.close();
  await admin?.close();
  await redis?.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** A queue-mode replica of `predictor` caching in the fleet's store (blobs under `dir`). */
async function replica(predictor: string, version: string, dir: string, slots = 10): Promise<TestReplica> {
  const store = await openStore(redis.url, dir);
  const r = await startReplica(redis.url, predictor, {
    version,
    server: { maxConcurrency: slots, cache: { dir, version, store } },
  });
  replicas.push(r);
  return r;
}

interface Hosted {
  id: string;
  status: string;
  output: string;
  error: string | null;
  metrics: Record<string, unknown>;
}

async function create(
  version: string,
  input: Record<string, unknown>,
  headers: Record<string, string> = {},
  g: { url: string } = gateway,
): Promise<Hosted> {
  const res = await fetch(`${g.url}/v1/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json", prefer: "wait", ...headers },
    body: JSON.stringify({ version, input }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Hosted;
}

const run = (output: string): string => /run=(\d+)/.exec(output)?.[1] ?? "?";
const dataUri = (text: string): string => `data:text/plain;base64,${Buffer.from(text).toString("base64")}`;
const fresh = (): { version: string; dir: string } => ({
  version: `v-cache-${n}`,
  dir: join(root, `blobs-${n++}`),
});

describe("the output cache in a fleet", () => {
  it("answers from the store another replica filled: a new prediction, the same output, marked a hit", async () => {
    const { version, dir } = fresh();
    const a = await replica("cached", version, dir);
    const first = await create(version, { prompt: "a cat", seed: 1 });
    expect(first).toMatchObject({ status: "succeeded", metrics: { cache_hit: false } });
    await a.close();
    replicas.splice(0);
    const b = await replica("cached", version, dir);
    const hit = await create(version, { seed: 1, prompt: "a cat" });
    expect(hit.id).not.toBe(first.id);
    expect(hit.output).toBe(first.output);
    expect(hit.metrics.cache_hit).toBe(true);
    const text = await (await fetch(`${b.server.url}/metrics`)).text();
    expect(metric(text, "kiln_cache_hits_total")).toBe(1);
    expect(metric(text, "kiln_cache_misses_total")).toBe(0);
    expect(metric(text, "kiln_cache_entries")).toBeGreaterThanOrEqual(1);
  });

  it("runs again on any change of input value, file content or version", async () => {
    const { version, dir } = fresh();
    await replica("cached", version, dir);
    const base = await create(version, { prompt: "p", seed: 1, image: dataUri("one") });
    const seed = await create(version, { prompt: "p", seed: 2, image: dataUri("one") });
    const content = await create(version, { prompt: "p", seed: 1, image: dataUri("two") });
    expect(new Set([base, seed, content].map((r) => run(r.output))).size).toBe(3);
    expect((await create(version, { prompt: "p", seed: 1, image: dataUri("one") })).output).toBe(base.output);

    const other = `${version}-next`;
    await replica("cached", other, dir);
    const next = await create(other, { prompt: "p", seed: 1, image: dataUri("one") });
    expect(next.status).toBe("succeeded");
    expect(next.metrics.cache_hit).toBe(false);
  });

  it("carries Cache-Control through the queue: no-store bypasses, no-cache refreshes", async () => {
    const { version, dir } = fresh();
    await replica("cached", version, dir);
    const stored = await create(version, { prompt: "s", seed: 5 });
    const bypass = await create(version, { prompt: "s", seed: 5 }, { "cache-control": "no-store" });
    expect(bypass.metrics.cache_hit).toBeUndefined();
    expect(run(bypass.output)).not.toBe(run(stored.output));
    expect((await create(version, { prompt: "s", seed: 5 })).output).toBe(stored.output);
    const refreshed = await create(version, { prompt: "s", seed: 5 }, { "cache-control": "no-cache" });
    expect(refreshed.metrics.cache_hit).toBe(false);
    expect(run(refreshed.output)).not.toBe(run(stored.output));
    expect((await create(version, { prompt: "s", seed: 5 })).output).toBe(refreshed.output);
  });

  it("never caches a failed or a canceled prediction", async () => {
    const { version, dir } = fresh();
    await replica("cached", version, dir);
    const failed = await create(version, { prompt: "f", seed: 1, fail: true });
    expect(failed.status).toBe("failed");
    const again = await create(version, { prompt: "f", seed: 1, fail: true });
    expect(again.status).toBe("failed");
    expect(again.error).not.toBe(failed.error); // another run number: it ran again

    const slow = { prompt: "c", seed: 1, delay_ms: 1_500 };
    const started = await create(version, slow, { prefer: "respond-async" });
    const keys = makeKeys();
    const status = async (id: string): Promise<unknown> => admin.call("HGET", keys.prediction(id), "status");
    await until(async () => (await status(started.id)) === "processing");
    const res = await fetch(`${gateway.url}/v1/predictions/${started.id}/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    await until(async () => (await status(started.id)) === "canceled");
    const after = await create(version, slow);
    expect(after).toMatchObject({ status: "succeeded", metrics: { cache_hit: false } });
    expect(run(after.output)).not.toBe("?");
  });

  it("runs ten identical concurrent requests once across two replicas", async () => {
    const { version, dir } = fresh();
    // Few slots each, so both replicas take some of them at once.
    const a = await replica("cached", version, dir, 3);
    const b = await replica("cached", version, dir, 3);
    const all = await Promise.all(
      Array.from({ length: 10 }, () => create(version, { prompt: "together", seed: 3, delay_ms: 500 })),
    );
    expect(all.every((r) => r.status === "succeeded")).toBe(true);
    expect(new Set(all.map((r) => r.output)).size).toBe(1);
    expect(all.filter((r) => r.metrics.cache_hit === false)).toHaveLength(1);
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metric(text, "kiln_fleet_cache_misses_total")).toBeGreaterThanOrEqual(1);
    expect(metric(text, "kiln_fleet_cache_hits_total")).toBeGreaterThanOrEqual(9);
    // Both replicas answered some of them.
    for (const r of [a, b]) {
      const own = await (await fetch(`${r.server.url}/metrics`)).text();
      expect(
        (metric(own, "kiln_cache_hits_total") ?? 0) + (metric(own, "kiln_cache_misses_total") ?? 0),
      ).toBeGreaterThan(0);
    }
  });

  it("waits for another process computing the same key, and stops waiting when that process dies", async () => {
    const { version, dir } = fresh();
    await replica("cached", version, dir);
    // The input as the replica keys it: validated, defaults filled in, optional inputs null.
    const input = { prompt: "held", seed: 7, image: null, delay_ms: 0, fail: false };
    const key = cacheKey(version, input);
    const keys = makeKeys();

    // A live holder: the replica waits for it, then serves what it stored.
    const holder = await openStore(redis.url, dir);
    const release = await holder.flights.acquire(key);
    expect(release).not.toBeNull();
    const waiting = await create(version, input, { prefer: "respond-async" });
    await until(async () => (await admin.call("HGET", keys.prediction(waiting.id), "consumer")) || null);
    expect(await admin.call("HGET", keys.prediction(waiting.id), "status")).toBe("starting");
    await holder.put(key, "computed elsewhere");
    await release!();
    await until(
      async () => (await admin.call("HGET", keys.prediction(waiting.id), "status")) === "succeeded",
    );
    const done = (await (await fetch(`${gateway.url}/v1/predictions/${waiting.id}`)).json()) as Hosted;
    expect(done).toMatchObject({ output: "computed elsewhere", metrics: { cache_hit: true } });
    await holder.close();

    // A holder that dies (no renewals): its lock lapses and the replica runs the model.
    const dying = await openStore(redis.url, dir, { lockMs: 1_000 });
    const other = { ...input, seed: 8 };
    expect(await dying.flights.acquire(cacheKey(version, other))).not.toBeNull();
    await dying.close();
    const ran = await create(version, other);
    expect(ran).toMatchObject({ status: "succeeded", metrics: { cache_hit: false } });
  });

  it("the image's entry (node server.mjs) in queue mode with KILN_CACHE_DIR caches in the fleet's store", async () => {
    const { version, dir } = fresh();
    const entry = join(root, "server.mjs");
    await bundleServerEntry(entry);
    const fx = await fixtureProject();
    const port = await fleetPort();
    const readyFile = join(root, `ready-${port}`);
    let out = "";
    const child: ChildProcess = spawn(process.execPath, [entry, "--host", "127.0.0.1"], {
      env: {
        ...process.env,
        KILN_ROOT: fx.root,
        KILN_NODE_WORKER: fx.worker,
        KILN_PREDICTOR: `${fx.module}:cached`,
        PORT: String(port),
        KILN_QUEUE: redis.url,
        KILN_MODEL_VERSION: version,
        KILN_CACHE_DIR: dir,
        KILN_READY_FILE: readyFile,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await until(
        () => existsSync(readyFile) && out.includes("queue mode: consuming"),
        20_000,
        `ready:\n${out}`,
      );
      // Registered once setup ended (which may be after queue mode started).
      await until(async () => Number(await admin.call("EXISTS", makeKeys().version(version))) === 1);
      const first = await create(version, { prompt: "entry", seed: 1 });
      const again = await create(version, { prompt: "entry", seed: 1 });
      expect(first.metrics.cache_hit).toBe(false);
      expect(again).toMatchObject({ output: first.output, metrics: { cache_hit: true } });
      // The fleet's store (entries in Redis), not a private directory store (DIR/entries/).
      const key = cacheKey(version, { prompt: "entry", seed: 1, image: null, delay_ms: 0, fail: false });
      expect(await admin.call("EXISTS", makeKeys().cache.entry(key))).toBe(1);
      expect(await readdir(dir).catch(() => [])).not.toContain("entries");
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metric(text, "kiln_cache_hits_total")).toBe(1);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("serves a cached file output again from the shared blob directory", async () => {
    const { version, dir } = fresh();
    await replica("cachedFile", version, dir);
    const first = await create(version, { prompt: "img", bytes: 2_000 });
    expect(first.output).toMatch(/^data:image\/png;base64,/);
    await replicas.splice(0)[0]!.close();
    await replica("cachedFile", version, dir);
    const hit = await create(version, { prompt: "img", bytes: 2_000 });
    expect(hit.metrics.cache_hit).toBe(true);
    expect(hit.output).toBe(first.output);
  });
});
