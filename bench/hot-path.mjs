// The server's per-request CPU against another revision, in the same rounds: the no-op TS predictor
// (worker thread) and the no-op Python `async def` predictor behind the bundled server of this checkout
// and of `--base` (a git revision, exported and bundled the same way), sync POST /predictions at 1 and 8
// connections, a fixed number of requests per run after a warm-up, rounds interleaved. Per run: CPU per
// prediction (user+sys of the server and its worker, from /proc), and for the TS server its main thread
// and its worker thread apart. Prints a markdown table (the raw material of bench/results/profile.md).
// Usage: node bench/hot-path.mjs [--base main] [--rounds 5] [--requests 15000] [--connections 1,8]
import autocannon from "autocannon";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { option, PYTHON_NOOP, runBenchmark } from "./lib.mjs";
import {
  bundleRuntime,
  compileFixture,
  pythonProject,
  root,
  startKiln,
  threadCpuMs,
  treeCpuMs,
} from "./server-lib.mjs";

const BASE = option("base", "main");
const ROUNDS = Number(option("rounds", "5"));
const REQUESTS = Number(option("requests", "15000"));
const CONNECTIONS = option("connections", "1,8").split(",").map(Number);

/** `ref`'s sources in a temporary directory (git archive), with this checkout's node_modules. */
function exportSources(ref) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-hot-path-"));
  const archive = spawnSync("git", ["archive", ref, "src", "package.json"], {
    cwd: root,
    maxBuffer: 1 << 28,
  });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
  execFileSync("tar", ["-x", "-C", dir], { input: archive.stdout });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const body = JSON.stringify({ input: {} });
const cannon = (url, connections, amount) =>
  autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    amount,
  });

async function main() {
  const work = mkdtempSync(join(tmpdir(), "kiln-bench-hot-path-work-"));
  const baseSrc = exportSources(BASE);
  const rev = execFileSync("git", ["rev-parse", "--short", BASE], { cwd: root }).toString().trim();
  const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  try {
    mkdirSync(join(work, "base"));
    mkdirSync(join(work, "head"));
    const bundles = {
      base: await bundleRuntime(join(work, "base"), baseSrc),
      head: await bundleRuntime(join(work, "head")),
    };
    const noop = await compileFixture(work, "noop.ts");
    const py = pythonProject(work, "noop", PYTHON_NOOP.replace("def predict", "async def predict"));
    const pyDirs = { base: join(baseSrc, "src/runtime/workers/python"), head: py.env.KILN_PYTHON_WORKER_DIR };
    const servers = {};
    for (const side of ["base", "head"]) {
      const slots = { COG_MAX_CONCURRENCY: "8" };
      servers[`ts ${side}`] = await startKiln({
        ...bundles[side],
        dir: noop.dir,
        predictor: `${noop.file}:predictor`,
        env: slots,
      });
      servers[`python ${side}`] = await startKiln({
        ...bundles[side],
        dir: py.dir,
        predictor: "predict.py:Predictor",
        env: { ...slots, ...py.env, KILN_PYTHON_WORKER_DIR: pyDirs[side] },
      });
    }
    for (const s of Object.values(servers)) await cannon(s.url, 8, 3000); // JIT
    const load0 = loadavg()[0];
    const runs = {};
    for (let round = 0; round < ROUNDS; round++)
      for (const c of CONNECTIONS)
        for (const [name, s] of Object.entries(servers)) {
          await cannon(s.url, c, 1000);
          const cpu0 = treeCpuMs(s.pid);
          const t0 = threadCpuMs(s.pid);
          const r = await cannon(s.url, c, REQUESTS);
          const n = r.requests.total;
          const t1 = threadCpuMs(s.pid);
          const main = ((t1.get(s.pid) ?? 0) - (t0.get(s.pid) ?? 0)) / n;
          let other = 0;
          for (const [tid, ms] of t1)
            if (tid !== s.pid) other = Math.max(other, (ms - (t0.get(tid) ?? 0)) / n);
          const row = (runs[`${name}@${c}`] ??= { total: [], main: [], other: [] });
          row.total.push((treeCpuMs(s.pid) - cpu0) / n);
          row.main.push(main);
          row.other.push(other);
        }
    for (const s of Object.values(servers)) await s.stop();
    const us = (ms) => (ms * 1000).toFixed(0);
    console.log(
      `\nbase ${BASE} (${rev}) vs this checkout (${head}); ${ROUNDS} rounds of ${REQUESTS} predictions; load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
    );
    console.log(`uptime: ${execFileSync("uptime").toString().trim()}\n`);
    console.log(
      "| predictor | connections | CPU µs per prediction, base → this (median) | change | server main thread, base → this | busiest other thread (TS: the worker thread) |",
    );
    console.log("|---|---|---|---|---|---|");
    for (const kind of ["ts", "python"])
      for (const c of CONNECTIONS) {
        const b = runs[`${kind} base@${c}`];
        const h = runs[`${kind} head@${c}`];
        const change = ((median(h.total) / median(b.total) - 1) * 100).toFixed(0);
        console.log(
          `| ${kind === "ts" ? "TS no-op (thread)" : "Python `async def` no-op"} | ${c} | ${us(median(b.total))} → ${us(median(h.total))} | ${change} % | ${us(median(b.main))} → ${us(median(h.main))} | ${us(median(b.other))} → ${us(median(h.other))} |`,
        );
      }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(baseSrc, { recursive: true, force: true });
  }
}

runBenchmark(main);
