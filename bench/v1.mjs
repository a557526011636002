#!/usr/bin/env node
// Benchmark: the hosted /v1 path (replicate.run with Prefer: wait, through the real `replicate` client)
// against the container API's sync POST /predictions, on one server running a no-op TypeScript model
// (real node worker + SDK), in the same run. Needs `npm run build` (uses dist/).
// Usage: node bench/v1.mjs [--n 1000] [--out bench/results/v1.md]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import Replicate from "replicate";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg("n", "1000"));
const OUT = arg("out", join(REPO, "bench/results/v1.md"));
const BLOCK = 1; // interleave the two paths call by call so drift (GC, other load) hits both alike

let startServer, compileTsPredictor;
try {
  ({ startServer } = await import(join(REPO, "dist/runtime/server.js")));
  ({ compileTsPredictor } = await import(join(REPO, "dist/build/ts-predictor.js")));
} catch (err) {
  console.error(`bench/v1.mjs needs the compiled sources: run \`npm run build\` first (${err.message})`);
  process.exit(1);
}

const root = mkdtempSync(join(tmpdir(), "kiln-bench-v1-"));
writeFileSync(
  join(root, "predict.ts"),
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "ok" });\n',
);
const { outFile } = await compileTsPredictor(root, {
  raw: "predict.ts:predictor",
  file: "predict.ts",
  name: "predictor",
  language: "typescript",
});
const server = await startServer({
  root,
  predictor: { language: "node", file: relative(root, outFile), name: "predictor" },
  host: "127.0.0.1",
  port: 0,
  logLevel: "silent",
});
if ((await server.ready) !== "READY") throw new Error("the bench model did not become ready");
const replicate = new Replicate({ auth: "bench", baseUrl: `${server.url}/v1` });

async function containerCall() {
  const res = await fetch(`${server.url}/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"input":{}}',
  });
  const body = await res.json();
  if (res.status !== 200 || body.output !== "ok")
    throw new Error(`container call failed: ${res.status} ${JSON.stringify(body)}`);
}

async function v1Call() {
  const out = await replicate.run("kiln/bench", { input: {} });
  if (out !== "ok") throw new Error(`/v1 call returned ${JSON.stringify(out)}`);
}

async function timed(fn, n, into) {
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    into.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: q(0.5),
    p99: q(0.99),
    max: s[s.length - 1],
  };
};

// Warm-up (JIT, connection pools) not counted.
await timed(containerCall, 100, []);
await timed(v1Call, 100, []);
const container = [];
const v1 = [];
for (let done = 0; done < N; done += BLOCK) {
  const n = Math.min(BLOCK, N - done);
  await timed(containerCall, n, container);
  await timed(v1Call, n, v1);
}
await server.close();
rmSync(root, { recursive: true, force: true });

const c = stats(container);
const h = stats(v1);
const f = (x) => x.toFixed(3);
const ratioMean = h.mean / c.mean;
const ratioP99 = h.p99 / c.p99;
const verdict = ratioMean < 1.5 ? "meets" : "MISSES";
const md = `# /v1 (replicate.run, Prefer: wait) vs container API (sync POST /predictions)

Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}) · ${N} calls each,
sequential and interleaved (blocks of ${BLOCK}), after 100 warm-up calls each. Model: a no-op TypeScript predictor
(kiln SDK, real node worker), one server, one slot. Latency is measured client-side, per call, in ms.
The /v1 column includes the \`replicate\` client's own work (request building, JSON, output transform).

| path | n | mean | p50 | p99 | max |
|---|---|---|---|---|---|
| container API sync | ${c.n} | ${f(c.mean)} | ${f(c.p50)} | ${f(c.p99)} | ${f(c.max)} |
| /v1 replicate.run | ${h.n} | ${f(h.mean)} | ${f(h.p50)} | ${f(h.p99)} | ${f(h.max)} |

Machine load average during the run: ${loadavg()
  .map((x) => x.toFixed(1))
  .join(" / ")} (1/5/15 min) — on a
shared machine absolute numbers are noisy; the interleaved ratio is the meaningful figure.

Ratio /v1 ÷ container: mean **${ratioMean.toFixed(2)}x**, p99 **${ratioP99.toFixed(2)}x** (target: mean under 1.5x — ${verdict} it).

Reproduce: \`npm run build && node bench/v1.mjs\` (options: \`--n 1000\`, \`--out FILE\`).
`;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, md);
console.log(md);
if (ratioMean >= 1.5) process.exitCode = 2;
