// Predict-server overhead benchmark: a no-op predictor under sync POST /predictions (1 and 8
// connections, autocannon on loopback) side by side with a bare node:http hello-world as the ceiling;
// plus server+worker RSS (idle, after load, growth over many requests) and start-to-READY.
// Writes bench/results/server.md. Usage: node bench/server.mjs [--duration 10] [--growth 100000]
import autocannon from "autocannon";
import { build } from "esbuild";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { childrenOf, freePort, rssKb } from "./lib.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const DURATION = flag("duration", 10);
const GROWTH_REQUESTS = flag("growth", 100_000);
const work = mkdtempSync(join(tmpdir(), "kiln-bench-"));
// Every child we start, so a failing run never leaves servers behind.
const children = new Set();
const track = (child) => {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
};
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** The predictor + worker used: the real node worker and a JS no-op predictor when available. */
async function prepare() {
  const serverEntry = join(work, "server.mjs");
  await build({
    entryPoints: [join(root, "src/runtime/main.ts")],
    outfile: serverEntry,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    define: {
      __KILN_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version),
    },
    logLevel: "warning",
  });
  const workerEntry = join(work, "node-worker.mjs");
  await build({
    entryPoints: [join(root, "src/runtime/workers/node/main.ts")],
    outfile: workerEntry,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
  // The no-op predictor, compiled like compileTsPredictor does ("kiln-ml" -> the SDK).
  const predictorDir = join(work, "project");
  mkdirSync(predictorDir);
  await build({
    entryPoints: [join(root, "bench/fixtures/noop.ts")],
    outfile: join(predictorDir, "noop.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias: { "kiln-ml": join(root, "src/sdk/index.ts") },
    logLevel: "warning",
  });
  // The same no-op as a Cog-style Python predictor (async, so 8 slots are allowed) for the Python worker.
  const pythonDir = join(work, "python-project");
  mkdirSync(pythonDir);
  writeFileSync(
    join(pythonDir, "predict.py"),
    'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    async def predict(self) -> str:\n        return "ok"\n',
  );
  const python = {
    serverEntry,
    predictorDir: pythonDir,
    predictor: "predict.py:Predictor",
    // the real interpreter, not a pyenv shim (a shell script that adds ~0.3 s to every start)
    extraEnv: {
      KILN_PYTHON: execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim(),
      KILN_PYTHON_WORKER_DIR: join(root, "src/runtime/workers/python"),
    },
  };
  return {
    serverEntry,
    workerEntry,
    predictorDir,
    predictor: "noop.mjs:predictor",
    worker: "real node worker, TS no-op predictor",
    python,
  };
}

/** CPU time (user+sys) of a process and its direct children, in ms: insensitive to a busy machine. */
function treeCpuMs(pid) {
  const one = (p) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime+stime in clock ticks (100 Hz)
    } catch {
      return 0;
    }
  };
  return one(pid) + childrenOf(pid).reduce((a, c) => a + one(c), 0);
}

/** RSS of a process and its direct children (server + worker), in MB. */
const treeRssMb = (pid) => (rssKb(pid) + childrenOf(pid).reduce((a, c) => a + rssKb(c), 0)) / 1024;

async function startKiln(env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [env.serverEntry, "--host", "127.0.0.1", "--port", String(port)], {
    env: {
      ...process.env,
      KILN_ROOT: env.predictorDir,
      KILN_PREDICTOR: env.predictor,
      KILN_NODE_WORKER: env.workerEntry,
      COG_LOG_LEVEL: "error",
      // 8 slots so the 8-connection run measures throughput, not 409s (the no-op predictor is async).
      COG_MAX_CONCURRENCY: "8",
      ...env.extraEnv,
    },
    stdio: ["ignore", "ignore", "ignore"],
  });
  track(child);
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const r = await fetch(`${url}/health-check`);
      const body = await r.json();
      if (body.status === "READY") break;
      if (body.status === "SETUP_FAILED") throw new Error(`setup failed: ${body.setup.logs}`);
    } catch (err) {
      if (String(err).includes("setup failed")) throw err;
    }
    if (performance.now() - t0 > 20_000) throw new Error("server did not become READY in 20 s");
    await sleep(2);
  }
  const readyMs = performance.now() - t0;
  const readyCpuMs = treeCpuMs(child.pid);
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
  return { url, pid: child.pid, readyMs, readyCpuMs, stop };
}

async function startBare() {
  const port = await freePort();
  const code = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200, {"content-type": "application/json"}); s.end('{"status":"succeeded","output":"ok"}'); }); }).listen(${port}, "127.0.0.1", () => console.log("up"));`;
  const child = track(spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "ignore"] }));
  await new Promise((r) => child.stdout.once("data", r));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill();
      await new Promise((r) => child.once("exit", r));
    },
  };
}

const BODY = JSON.stringify({ input: {} });
async function load(url, connections, duration = DURATION, pid = 0) {
  const cpu0 = pid ? treeCpuMs(pid) : 0;
  const r = await autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    connections,
    duration,
  });
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`load run had ${r.non2xx} non-2xx and ${r.errors} errors`);
  const cpuPerReq = pid ? (treeCpuMs(pid) - cpu0) / r.requests.total : 0;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    cpuPerReq,
  };
}

async function growth(url, pid, requests) {
  // Warm up, then measure RSS across `requests` sync predictions at 8 connections.
  await autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    connections: 8,
    amount: 5_000,
  });
  await sleep(500);
  const before = treeRssMb(pid);
  const r = await autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    connections: 8,
    amount: requests,
  });
  await sleep(1000);
  const after = treeRssMb(pid);
  return { requests: r.requests.total, before, after, errors: r.errors + r.non2xx };
}

const fmt = (n, d = 0) => n.toFixed(d);

async function main() {
  const env = await prepare();
  const results = { bare: {}, kiln: {} };

  const bare = await startBare();
  await load(bare.url, 8, 2); // warm up
  for (const c of [1, 8]) results.bare[c] = await load(bare.url, c, DURATION, bare.pid);
  results.bare.rss = treeRssMb(bare.pid);
  await bare.stop();

  const readies = [];
  const readyCpu = [];
  for (let i = 0; i < 5; i++) {
    const k = await startKiln(env);
    readies.push(k.readyMs);
    readyCpu.push(k.readyCpuMs);
    await k.stop();
  }
  readies.sort((a, b) => a - b);
  readyCpu.sort((a, b) => a - b);
  const loadAvg = (await import("node:os")).loadavg()[0];

  const kiln = await startKiln(env);
  await sleep(300);
  results.kiln.idleRss = treeRssMb(kiln.pid);
  results.kiln.idleServerRss = rssKb(kiln.pid) / 1024;
  await load(kiln.url, 8, 2); // warm up
  for (const c of [1, 8]) results.kiln[c] = await load(kiln.url, c, DURATION, kiln.pid);
  results.kiln.loadedRss = treeRssMb(kiln.pid);
  const g = await growth(kiln.url, kiln.pid, GROWTH_REQUESTS);
  await kiln.stop();

  // Python worker: same server, same no-op, Cog-style predict.py (see bench/python-worker.mjs for more).
  results.python = {};
  const py = await startKiln(env.python);
  results.python.readyMs = py.readyMs;
  await sleep(300);
  results.python.idleRss = treeRssMb(py.pid);
  await load(py.url, 8, 2); // warm up
  for (const c of [1, 8]) results.python[c] = await load(py.url, c, DURATION, py.pid);
  results.python.loadedRss = treeRssMb(py.pid);
  await py.stop();
  rmSync(work, { recursive: true, force: true });

  const ratio = results.kiln[1].rps / results.bare[1].rps;
  const lines = [
    "# Predict server benchmark",
    "",
    `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU (${cpus()[0]?.model ?? "?"}) · ` +
      `autocannon in the same process as the driver, ${DURATION} s per run, loopback. Worker: ${env.worker}.`,
    "The machine is shared with other jobs, so absolute numbers are noisy; the ratio to the bare server in",
    "the same run is the meaningful figure.",
    "",
    `1-minute load average at the start of the kiln runs: ${loadAvg.toFixed(1)} on ${cpus().length} CPUs.`,
    "CPU ms/request (server+worker user+sys time over the run) does not depend on how busy the machine is.",
    "",
    "| server | connections | req/s | p50 ms | p99 ms | CPU ms/request |",
    "|---|---|---|---|---|---|",
    ...[1, 8].map(
      (c) =>
        `| bare node:http | ${c} | ${fmt(results.bare[c].rps)} | ${results.bare[c].p50} | ${results.bare[c].p99} | ${fmt(results.bare[c].cpuPerReq, 3)} |`,
    ),
    ...[1, 8].map(
      (c) =>
        `| kiln sync POST /predictions (no-op) | ${c} | ${fmt(results.kiln[c].rps)} | ${results.kiln[c].p50} | ${results.kiln[c].p99} | ${fmt(results.kiln[c].cpuPerReq, 3)} |`,
    ),
    ...[1, 8].map(
      (c) =>
        `| kiln sync POST /predictions (Python no-op, kiln_worker.py) | ${c} | ${fmt(results.python[c].rps)} | ${results.python[c].p50} | ${results.python[c].p99} | ${fmt(results.python[c].cpuPerReq, 3)} |`,
    ),
    "",
    "| measure | value | target |",
    "|---|---|---|",
    `| kiln / bare req/s at 1 connection | ${fmt(ratio * 100)} % | ≥ 50 % ${ratio >= 0.5 ? "✓" : "✗"} |`,
    `| kiln p99 at 1 connection | ${results.kiln[1].p99} ms | < 2 ms ${results.kiln[1].p99 < 2 ? "✓" : "✗"} |`,
    `| idle RSS server+worker | ${fmt(results.kiln.idleRss, 1)} MB (server ${fmt(results.kiln.idleServerRss, 1)}, worker ${fmt(results.kiln.idleRss - results.kiln.idleServerRss, 1)}) | < 80 MB ${results.kiln.idleRss < 80 ? "✓" : "✗"} |`,
    `| RSS after the load runs | ${fmt(results.kiln.loadedRss, 1)} MB | |`,
    `| RSS growth over ${g.requests} requests (after 5k warm-up) | ${fmt(g.before, 1)} → ${fmt(g.after, 1)} MB (${fmt(g.after - g.before, 1)} MB, ${g.errors} errors) | no growth ${g.after - g.before < 5 ? "✓" : "✗"} |`,
    `| start to READY (no-op setup), median of 5 | ${fmt(readies[2])} ms (min ${fmt(readies[0])}, max ${fmt(readies[4])}) | < 300 ms ${readies[2] < 300 ? "✓" : "✗"} |`,
    `| CPU time to READY (server+worker), median of 5 | ${fmt(readyCpu[2])} ms | |`,
    `| bare server RSS (reference) | ${fmt(results.bare.rss, 1)} MB | |`,
    `| Python / TS no-op req/s at 1 connection | ${fmt((results.python[1].rps / results.kiln[1].rps) * 100)} % | |`,
    `| Python − TS CPU ms/request at 1 connection | ${fmt(results.python[1].cpuPerReq - results.kiln[1].cpuPerReq, 3)} ms | |`,
    `| Python: idle / loaded RSS server+worker, start to READY | ${fmt(results.python.idleRss, 1)} / ${fmt(results.python.loadedRss, 1)} MB, ${fmt(results.python.readyMs)} ms | |`,
    "",
  ];
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/server.md"), lines.join("\n"));
  console.log(lines.join("\n"));
}

main().catch((err) => {
  console.error(err);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
