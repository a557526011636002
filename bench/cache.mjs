// Output cache benchmark: a 500 ms model behind `kiln serve`'s container API with the directory store.
// Measures a miss (the model runs), then sequential hits of the same input, side by side in the same run
// with a bare node:http server answering JSON (the floor of any HTTP answer here) and the same server's
// no-store path (the model runs every time). Writes bench/results/cache.md.
// Usage: node bench/cache.mjs [--hits 500]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchmark, runLine, writeResults } from "./lib.mjs";
import { bundleRuntime, compileFixture, root, startBare, startKiln } from "./server-lib.mjs";

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

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function main() {
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
    await bare.stop();

    const p50 = pct(hits, 0.5);
    const lines = [
      "# Output cache benchmark",
      "",
      runLine(),
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
    ];
    writeResults(root, "cache", lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
