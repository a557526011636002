/**
 * The fleet's output cache from the command line: two `kiln gateway` processes and two
 * `kiln serve --no-docker --queue ... --cache DIR` replicas on one redis-server and one blob directory.
 * A prediction through gateway A, then the same input through gateway B, is a hit (a new prediction,
 * the same output, the file served again from the shared directory); ten identical requests split
 * across both gateways run the model once; the counters in /metrics say so.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric } from "./cache-fleet-helpers.js";
import { startRedis, until, type RedisInstance } from "./fleet-helpers.js";
import { served, type Served } from "./client-helpers.js";

const MODEL = "test/cachefleet";

const COG_YAML = `build:
  node_version: 20
predict: "predict.ts:predictor"
kiln:
  cache: true
`;

// Each output names the process and run that made it, so a cached answer shows where it came from.
const PREDICT_TS = `import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePredictor, file, fileOutput, z } from "kiln-ml";

let runs = 0;
export const predictor = definePredictor({
  inputs: { prompt: z.string(), delay_ms: z.int().min(0).default(0) },
  output: file(),
  async predict(input) {
    const run = ++runs;
    await new Promise((resolve) => setTimeout(resolve, input.delay_ms));
    const out = join(await mkdtemp(join(tmpdir(), "kiln-cachefleet-out-")), "picture.txt");
    await writeFile(out, input.prompt + " by " + process.pid + " run " + run);
    return fileOutput(out);
  },
});
`;

type Proc = Served;

interface Hosted {
  id: string;
  status: string;
  output: string;
  metrics: Record<string, unknown>;
}

async function predict(gateway: Proc, input: Record<string, unknown>): Promise<Hosted> {
  const res = await fetch(`${gateway.url}/v1/models/${MODEL}/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json", prefer: "wait" },
    body: JSON.stringify({ input }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Hosted;
}

const scrape = async (p: Proc): Promise<string> => (await fetch(`${p.url}/metrics`)).text();
const decode = (uri: string): string => Buffer.from(uri.split(",")[1]!, "base64").toString("utf8");

let redis: RedisInstance;
let project = "";
let blobs = "";
const gateways: Proc[] = [];
const replicas: Proc[] = [];

beforeAll(async () => {
  redis = await startRedis();
  project = await mkdtemp(join(tmpdir(), "kiln-cachefleet-project-"));
  await writeFile(join(project, "cog.yaml"), COG_YAML);
  await writeFile(join(project, "predict.ts"), PREDICT_TS);
  blobs = await mkdtemp(join(tmpdir(), "kiln-cachefleet-blobs-"));
  const serve = ["serve", "--no-docker", "-p", "0", "--queue", redis.url, "--cache", blobs, "--model", MODEL];
  const [r1, r2, g1, g2] = await Promise.all([
    served(serve, project, /Model ready: (http:\/\/127\.0\.0\.1:\d+)/),
    served(serve, project, /Model ready: (http:\/\/127\.0\.0\.1:\d+)/),
    served(
      ["gateway", "--redis", redis.url, "-p", "0"],
      project,
      /Gateway ready: (http:\/\/127\.0\.0\.1:\d+)/,
    ),
    served(
      ["gateway", "--redis", redis.url, "-p", "0"],
      project,
      /Gateway ready: (http:\/\/127\.0\.0\.1:\d+)/,
    ),
  ]);
  replicas.push(r1!, r2!);
  gateways.push(g1!, g2!);
  // Both replicas registered and heartbeating.
  await until(
    async () => /kiln_fleet_replicas\{version="[^"]+"\} 2/.test(await scrape(g1!)),
    30_000,
    "two replicas",
  );
});

afterAll(async () => {
  for (const p of [...gateways, ...replicas]) await p.stop();
  await redis?.cleanup();
  for (const d of [project, blobs]) await rm(d, { recursive: true, force: true });
});

describe("the fleet's output cache shared by two kiln gateway processes", () => {
  it("answers through gateway B what ran through gateway A: a new prediction, the same file, a hit", async () => {
    const [a, b] = gateways as [Proc, Proc];
    const first = await predict(a, { prompt: "a lighthouse" });
    expect(first).toMatchObject({ status: "succeeded", metrics: { cache_hit: false } });
    expect(first.output).toMatch(/^data:text\/plain;base64,/);
    const hit = await predict(b, { prompt: "a lighthouse" });
    expect(hit.id).not.toBe(first.id);
    expect(hit.metrics.cache_hit).toBe(true);
    expect(hit.output).toBe(first.output);
    expect(decode(hit.output)).toMatch(/^a lighthouse by \d+ run \d+$/);
    // The file was served again from the shared blob directory, stored under its content's hash.
    const sha = createHash("sha256").update(decode(first.output)).digest("hex");
    expect(await readdir(join(blobs, sha.slice(0, 2)))).toContain(sha);

    const fleet = await scrape(b);
    expect(metric(fleet, "kiln_fleet_cache_hits_total")).toBe(1);
    expect(metric(fleet, "kiln_fleet_cache_misses_total")).toBe(1);
    expect(metric(fleet, "kiln_fleet_cache_entries")).toBe(1);
    let hits = 0;
    for (const r of replicas) hits += metric(await scrape(r), "kiln_cache_hits_total") ?? 0;
    expect(hits).toBe(1);
  });

  it("runs ten identical concurrent requests across both gateways once", async () => {
    const input = { prompt: "ten at once", delay_ms: 500 };
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => predict(gateways[i % 2]!, input)));
    expect(all.every((r) => r.status === "succeeded")).toBe(true);
    expect(new Set(all.map((r) => r.output)).size).toBe(1);
    expect(all.filter((r) => r.metrics.cache_hit === false)).toHaveLength(1);
    expect(new Set(all.map((r) => r.id)).size).toBe(10);
    const fleet = await scrape(gateways[0]!);
    expect(metric(fleet, "kiln_fleet_cache_misses_total")).toBe(2);
    expect(metric(fleet, "kiln_fleet_cache_hits_total")).toBe(10);
  });
});
