#!/usr/bin/env node
// Soak benchmark: N /v1 predictions (Prefer: wait) that each write logs and return a 1 MB output, through
// the real bundled server (dist/runtime-bundle/server.mjs, as images run it) with a TypeScript model on
// the real node worker. Samples the server's RSS all along and checks it stays within the retention
// budget (KILN_RETAIN_BYTES) plus a stated margin over the RSS measured when READY, in the same run;
// every prediction must succeed. Ceiling = RSS when READY + the budget + the margin; the first and
// second halves' peaks show whether memory plateaus (retention) or keeps growing (a leak).
// Needs `npm run build`. Usage:
//   node bench/soak.mjs [--n 50000] [--concurrency 4] [--output-kb 1024] [--log-kb 8] [--retain-mib 64]
//                       [--margin-mib 320] [--out bench/results/soak.md]
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { childrenOf, rssKb, startBundledModel } from "./lib.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg("n", "50000"));
const CONCURRENCY = Number(arg("concurrency", "4"));
const OUTPUT_KB = Number(arg("output-kb", "1024"));
const LOG_KB = Number(arg("log-kb", "8"));
const RETAIN_MIB = Number(arg("retain-mib", "64"));
const MARGIN_MIB = Number(arg("margin-mib", "320"));
const OUT = arg("out", join(REPO, "bench/results/soak.md"));
const WARMUP = Math.min(200, Math.max(10, Math.floor(N / 20)));

const { server, root, port } = await startBundledModel(
  REPO,
  "soak",
  `import { definePredictor, z } from "kiln-ml";
const line = "l".repeat(1023) + "\\n";
export const predictor = definePredictor({
  inputs: { seq: z.int() },
  output: z.string(),
  predict(input) {
    for (let i = 0; i < ${LOG_KB}; i++) console.log(line.slice(0, -1));
    return String(input.seq).padEnd(${OUTPUT_KB * 1024}, "o");
  },
});
`,
  { KILN_RETAIN_BYTES: String(RETAIN_MIB * 1024 * 1024), COG_LOG_LEVEL: "warn" },
);
const base = `http://127.0.0.1:${port}`;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method,
        agent,
        headers: data
          ? { "content-type": "application/json", prefer: "wait", "content-length": Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function untilReady() {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await call("GET", "/health-check");
      if (JSON.parse(r.text).status === "READY") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the soak server did not become READY");
}

const mib = (kb) => kb / 1024;
let peakServerKb = 0;
let peakWorkerKb = 0;
const samples = [];
const sampler = setInterval(() => {
  const s = rssKb(server.pid);
  const w = childrenOf(server.pid).reduce((n, pid) => n + rssKb(pid), 0);
  peakServerKb = Math.max(peakServerKb, s);
  peakWorkerKb = Math.max(peakWorkerKb, w);
  samples.push({ at: done, kb: s });
}, 250);

let done = 0;
let failed = 0;
const failures = [];
async function runBatch(count, offset) {
  let next = 0;
  async function lane() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const r = await call("POST", "/v1/predictions", { version: "soak", input: { seq: offset + i } });
      const p = r.status === 201 ? JSON.parse(r.text) : null;
      if (!p || p.status !== "succeeded" || p.output.length !== OUTPUT_KB * 1024 || !p.logs.includes("lll")) {
        failed++;
        if (failures.length < 5) failures.push(`#${offset + i}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      }
      done++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

let exitCode = 0;
try {
  await untilReady();
  const readyKb = rssKb(server.pid);
  // Warm-up fills the history and warms the JIT; its RSS is reported, the ceiling counts from READY.
  await runBatch(WARMUP, 0);
  const baselineKb = rssKb(server.pid);
  peakServerKb = baselineKb;
  const started = Date.now();
  await runBatch(N, WARMUP);
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  const endKb = rssKb(server.pid);
  // A leak shows as a second half that peaks higher than the first; retention shows as a plateau.
  const half = WARMUP + N / 2;
  const peakOf = (xs) => xs.reduce((m, x) => Math.max(m, x.kb), 0);
  const firstHalfKb = peakOf(samples.filter((x) => x.at >= WARMUP && x.at < half));
  const secondHalfKb = peakOf(samples.filter((x) => x.at >= half));
  const list = JSON.parse((await call("GET", "/v1/predictions")).text);
  const ceilingKb = readyKb + (RETAIN_MIB + MARGIN_MIB) * 1024;
  const within = peakServerKb <= ceilingKb;
  const ok = within && failed === 0;
  if (!ok) exitCode = 1;
  const lines = [
    "# Soak: /v1 predictions with logs and 1 MB outputs",
    "",
    `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? "?"}) · load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")} at the end`,
    "",
    `Predictions: **${N}** measured (+${WARMUP} warm-up), ${CONCURRENCY} concurrent clients, Prefer: wait; each writes ${LOG_KB} KiB of logs and returns ${OUTPUT_KB} KiB.`,
    `Server: dist/runtime-bundle/server.mjs (as in images), one slot, KILN_RETAIN_BYTES = ${RETAIN_MIB} MiB.`,
    "",
    "| figure | value |",
    "|---|---|",
    `| predictions succeeded | ${done - failed} of ${done} (${failed} failed) |`,
    `| wall time | ${seconds.toFixed(1)} s (${(N / seconds).toFixed(1)} predictions/s) |`,
    `| server RSS when READY | ${mib(readyKb).toFixed(0)} MiB |`,
    `| server RSS after warm-up (baseline) | ${mib(baselineKb).toFixed(0)} MiB |`,
    `| server RSS peak during the soak | ${mib(peakServerKb).toFixed(0)} MiB |`,
    `| server RSS peak, first half / second half | ${mib(firstHalfKb).toFixed(0)} / ${mib(secondHalfKb).toFixed(0)} MiB |`,
    `| server RSS at the end | ${mib(endKb).toFixed(0)} MiB |`,
    `| worker RSS peak | ${mib(peakWorkerKb).toFixed(0)} MiB |`,
    `| ceiling = RSS when READY + budget ${RETAIN_MIB} MiB + margin ${MARGIN_MIB} MiB | ${mib(ceilingKb).toFixed(0)} MiB |`,
    `| peak ÷ ceiling | **${(peakServerKb / ceilingKb).toFixed(2)}** (${within ? "within" : "OVER"}) |`,
    `| finished predictions still listed (first page) | ${list.results.length} |`,
    "",
    "The margin covers what is not retained history: V8 heap slack between collections, a few",
    `in-flight requests (${CONCURRENCY} × ~${OUTPUT_KB} KiB bodies held whole, twice: parsed and rendered) and`,
    "the JSON rendering of each response.",
    "",
    ...(N < 50_000
      ? [
          `This run measured ${N} predictions, not the 50,000 the soak is specified for (pass --n 50000 on a`,
          "machine with time for it); what carries over is the plateau: a leak would make the second half",
          "peak above the first.",
          "",
        ]
      : []),
    ...(failures.length ? ["Failures (first 5):", "", ...failures.map((f) => `- ${f}`), ""] : []),
    `Reproduce: \`npm run build && node bench/soak.mjs --n ${N}\` (options: --n, --concurrency, --output-kb, --log-kb, --retain-mib, --margin-mib, --out).`,
    "",
  ];
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, lines.join("\n"));
  console.log(lines.join("\n"));
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  clearInterval(sampler);
  agent.destroy();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
