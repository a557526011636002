// Output cache benchmark: a 500 ms model behind `kiln serve`'s container API with the directory store.
// Measures a miss (the model runs), then sequential hits of the same input, side by side in the same run
// with a bare node:http server answering JSON (the floor of any HTTP answer here) and the same server's
// no-store path (the model runs every time). Then the fleet: the same model as a queue-mode replica with
// the fleet's store (Redis + a blob directory) behind a gateway in its own process, hits through the
// gateway's /v1 (Prefer: wait) against the same floor. Needs redis-server (scripts/test-env.sh).
// Writes bench/results/cache.md.
// Usage: node bench/cache.mjs [--hits 500]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { freePortInRange, runBenchmark, runLine, until, writeResults } from "./lib.mjs";
import { bundleRuntime, compileFixture, root, startBare, startKiln, track } from "./server-lib.mjs";

const argv = process.argv.slice(2);
const HITS = Number(argv[argv.indexOf("--hits") + 1] || 500) || 500;

async function timed(url, body, headers = {}) {
  const t0 = performance.now();
  const r = await fetch(`${url}/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  return { ms: performance.now() - t0, json };
}

/** A free port in this benchmark's range (55000-55999), for redis-server and the gateway. */
const freePort55 = () => freePortInRange(55000, 56000);

async function startRedis(work) {
  const port = await freePort55();
  const child = track(
    spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", work, "--save", ""], {
      stdio: "ignore",
    }),
  );
  child.once("error", (err) => {
    console.error(`redis-server could not start (${err.message}): provision with bash scripts/test-env.sh`);
    process.exit(1);
  });
  const ping = () =>
    new Promise((r) => {
      const s = new Socket();
      s.once("error", () => r(false));
      s.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
      s.once("data", (d) => (s.destroy(), r(String(d).startsWith("+PONG"))));
    });
  await until(ping, 10_000, "redis-server");
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** An entry bundled as scripts/bundle-runtime.mjs does for the image (ioredis needs `require`). */
async function bundleEntry(work, source, name) {
  const outfile = join(work, name);
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  await build({
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    entryPoints: [join(root, source)],
    outfile,
    define: { __KILN_VERSION__: JSON.stringify(version) },
    banner: {
      js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
    },
  });
  return outfile;
}

/** The gateway entry bundled like /kiln/gateway.mjs, in its own process. */
async function startGateway(work, redisUrl) {
  const entry = await bundleEntry(work, "src/fleet/gateway-main.ts", "gateway.mjs");
  const port = await freePort55();
  const child = track(
    spawn(process.execPath, [entry, "--redis", redisUrl, "--port", String(port), "--host", "127.0.0.1"], {
      stdio: "ignore",
      env: { ...process.env, COG_LOG_LEVEL: "warn" },
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/health-check`)).ok, 10_000, "gateway");
  return { url, stop: () => child.kill("SIGTERM") };
}

async function timedHosted(url, body) {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json", prefer: "wait" },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  return { ms: performance.now() - t0, json };
}

/** Miss then hits through a gateway in front of a queue-mode replica with the fleet's store. */
async function fleetRun(work, runtime, model, bare, input) {
  const redis = await startRedis(work);
  const version = "bench-fleet-v1";
  const replica = await startKiln({
    ...runtime,
    serverEntry: await bundleEntry(work, "src/runtime/main.ts", "queue-server.mjs"),
    dir: model.dir,
    predictor: `${model.file}:predictor`,
    env: {
      KILN_QUEUE: redis.url,
      KILN_MODEL: "bench/slow",
      KILN_MODEL_VERSION: version,
      KILN_CACHE_DIR: join(work, "fleet-blobs"),
    },
  });
  const gateway = await startGateway(work, redis.url);
  const body = { version, ...input };
  // The replica registers its version once READY: the first accepted prediction is the miss.
  let miss;
  await until(
    async () => {
      miss = await timedHosted(gateway.url, body);
      return miss.json.status === "succeeded";
    },
    10_000,
    "the replica's version in the gateway",
  );
  if (miss.json.metrics?.cache_hit !== false) throw new Error("the first fleet prediction was not a miss");
  const hits = [];
  const direct = [];
  const floor = [];
  for (let i = 0; i < HITS; i++) {
    const h = await timedHosted(gateway.url, body);
    if (h.json.metrics?.cache_hit !== true || h.json.output !== miss.json.output)
      throw new Error(`fleet prediction ${i} was not a hit with the same output`);
    hits.push(h.ms);
    // The same store without the queue: the replica's own container API.
    const d = await timed(replica.url, input);
    if (d.json.metrics?.cache_hit !== true) throw new Error(`direct prediction ${i} was not a hit`);
    direct.push(d.ms);
    floor.push((await timed(bare.url, input)).ms);
  }
  gateway.stop();
  await replica.stop();
  redis.stop();
  return { miss, hits, direct, floor };
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function main() {
  const startLoad = loadavg()[0];
  const work = mkdtempSync(join(tmpdir(), "kiln-bench-cache-"));
  try {
    const runtime = await bundleRuntime(work);
    const model = await compileFixture(work, "slow-model.ts");
    const kiln = await startKiln({
      ...runtime,
      dir: model.dir,
      predictor: `${model.file}:predictor`,
      env: { KILN_CACHE_DIR: join(work, "cache"), KILN_MODEL_VERSION: "bench-v1" },
    });
    const bare = await startBare();
    const input = { input: { prompt: "a lighthouse at dusk", seed: 7 } };
    const miss = await timed(kiln.url, input);
    if (miss.json.metrics?.cache_hit !== false) throw new Error("the first prediction was not a miss");
    const hits = [];
    const floor = [];
    for (let i = 0; i < HITS; i++) {
      const h = await timed(kiln.url, input);
      if (h.json.metrics?.cache_hit !== true || h.json.output !== miss.json.output)
        throw new Error(`prediction ${i} was not a hit with the same output`);
      hits.push(h.ms);
      floor.push((await timed(bare.url, input)).ms);
    }
    const bypass = [];
    for (let i = 0; i < 3; i++)
      bypass.push((await timed(kiln.url, input, { "cache-control": "no-store" })).ms);
    await kiln.stop();
    const fleet = await fleetRun(work, runtime, model, bare, input);
    await bare.stop();
    const f50 = pct(fleet.hits, 0.5);

    const p50 = pct(hits, 0.5);
    const lines = [
      "# Output cache benchmark",
      "",
      runLine(startLoad),
      "A 500 ms model behind the container API with `KILN_CACHE_DIR` (the directory store). Sequential requests",
      "on loopback from the driver; each hit is followed by one request to a bare node:http server answering JSON,",
      "the floor of any HTTP answer on this machine in the same moment.",
      "",
      "| request | n | p50 ms | p99 ms |",
      "|---|---|---|---|",
      `| miss (the model runs) | 1 | ${miss.ms.toFixed(1)} | |`,
      `| Cache-Control: no-store (the model runs) | ${bypass.length} | ${pct(bypass, 0.5).toFixed(1)} | |`,
      `| hit | ${hits.length} | ${p50.toFixed(2)} | ${pct(hits, 0.99).toFixed(2)} |`,
      `| bare node:http (floor) | ${floor.length} | ${pct(floor, 0.5).toFixed(2)} | ${pct(floor, 0.99).toFixed(2)} |`,
      "",
      "| goal | measured | |",
      "|---|---|---|",
      `| hit p50 < 5 ms | ${p50.toFixed(2)} ms (${(p50 / pct(floor, 0.5)).toFixed(1)}× the bare floor, ${((p50 / miss.ms) * 100).toFixed(2)} % of a miss) | ${p50 < 5 ? "✓" : "✗"} |`,
      "",
      "## The fleet's store",
      "",
      "The same model as a queue-mode replica (`KILN_QUEUE`, `KILN_CACHE_DIR`: the Redis + blob directory store)",
      "behind a gateway in its own process (the bundled `gateway.mjs`), redis-server on loopback. Each request is",
      "a `/v1` create with `Prefer: wait` through the gateway: gateway → Redis stream → replica (hit) → Redis →",
      "gateway. Each is followed by the same hit on the replica's own container API, then one request to the",
      "bare server.",
      "",
      "| request | n | p50 ms | p99 ms |",
      "|---|---|---|---|",
      `| miss through the gateway (the model runs) | 1 | ${fleet.miss.ms.toFixed(1)} | |`,
      `| hit through the gateway | ${fleet.hits.length} | ${f50.toFixed(2)} | ${pct(fleet.hits, 0.99).toFixed(2)} |`,
      `| hit on the replica's own container API (same store, no queue) | ${fleet.direct.length} | ${pct(fleet.direct, 0.5).toFixed(2)} | ${pct(fleet.direct, 0.99).toFixed(2)} |`,
      `| bare node:http (floor) | ${fleet.floor.length} | ${pct(fleet.floor, 0.5).toFixed(2)} | ${pct(fleet.floor, 0.99).toFixed(2)} |`,
      "",
      "| goal | measured | |",
      "|---|---|---|",
      `| fleet hit p50 < 5 ms | ${f50.toFixed(2)} ms (${(f50 / pct(fleet.floor, 0.5)).toFixed(1)}× the bare floor, ${((f50 / fleet.miss.ms) * 100).toFixed(2)} % of a miss) | ${f50 < 5 ? "✓" : "✗"} |`,
      "",
    ];
    writeResults(root, "cache", lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
