// Predict-server overhead benchmark: a no-op predictor under sync POST /predictions (1 and 8
// connections, autocannon on loopback), rounds interleaved with a bare node:http server that reads,
// parses and answers JSON (the ceiling, bench/fixtures/bare-server.mjs); CPU per prediction (server and
// worker, and for a worker thread the server's main thread apart); RSS idle, after load and over many
// requests; CPU while idle; start to READY for the TS and the Python worker. Writes bench/results/server.md.
//
// The req/s ratio to bare swings with whatever else the machine runs, so it is taken per round (each
// server right after the others, in an order that rotates every round, each after a warm-up of its
// own) and reported as the median of the per-round ratios with their spread. `--pin` puts the driver
// (autocannon) on CPU 0 and every server on CPU 1, so client and server never compete for a core.
// Usage: node bench/server.mjs [--duration 1] [--rounds 9] [--warmup 0.3] [--pin] [--growth 30000]
//                              [--cpu-prof DIR]
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childrenOf, rssKb, runBenchmark, writeResults } from "./lib.mjs";
import {
  bundleRuntime,
  compileFixture,
  pythonProject,
  root,
  startBare,
  processCpuMs,
  startKiln,
  threadCpuMs,
  treeCpuMs,
  treeRssMb,
} from "./server-lib.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const DURATION = Number(opt("duration", "1"));
const ROUNDS = Number(opt("rounds", "9"));
const WARMUP = Number(opt("warmup", "0.3"));
const PIN = argv.includes("--pin");
const GROWTH_REQUESTS = Number(opt("growth", "30000"));
const CPU_PROF = opt("cpu-prof", "");

const PYTHON_NOOP =
  'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    async def predict(self) -> str:\n        return "ok"\n';

const BODY = JSON.stringify({ input: {} });

/** Pins a process, every thread of it and its children, to one CPU. */
function pin(pid, cpu) {
  for (const p of [pid, ...childrenOf(pid)])
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(p)]);
}

const cannon = (url, connections, duration) =>
  autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    connections,
    duration,
  });

/**
 * Waits until a kiln server has no prediction in flight: autocannon drops the requests still open when
 * its time is up, and the server frees their slots once the cancels are through (a run that started
 * before would get 409s). Bare servers hold no slots.
 */
async function settle(url, kind) {
  if (kind === "bare" || kind === "relay") return;
  for (let i = 0; i < 500; i++) {
    const h = await (await fetch(`${url}/health-check`)).json();
    if (h.concurrency.current === 0) return;
    await sleep(2);
  }
  throw new Error(`${kind}: predictions still in flight 1 s after the load stopped`);
}

async function load(kind, url, connections, duration, pid) {
  if (WARMUP > 0) {
    await cannon(url, connections, WARMUP);
    await settle(url, kind);
  }
  const cpu0 = treeCpuMs(pid);
  const own0 = processCpuMs(pid);
  const threads0 = threadCpuMs(pid);
  const r = await cannon(url, connections, duration);
  await settle(url, kind);
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`load run had ${r.non2xx} non-2xx and ${r.errors} errors`);
  const threads1 = threadCpuMs(pid);
  // The main thread, and the busiest other one (a TS predictor's worker thread).
  const main = (threads1.get(pid) ?? 0) - (threads0.get(pid) ?? 0);
  let other = 0;
  for (const [tid, ms] of threads1) if (tid !== pid) other = Math.max(other, ms - (threads0.get(tid) ?? 0));
  const n = r.requests.total;
  return {
    rps: n / duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuPerReq: (treeCpuMs(pid) - cpu0) / n,
    // The server process alone (the rest of cpuPerReq is its worker, or bare-relay's child).
    serverCpuPerReq: (processCpuMs(pid) - own0) / n,
    mainThreadPerReq: main / n,
    otherThreadPerReq: other / n,
  };
}

async function growth(url, pid, requests) {
  const run = (amount) =>
    autocannon({
      url: `${url}/predictions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
      connections: 8,
      amount,
    });
  await run(5_000);
  await sleep(500);
  const before = treeRssMb(pid);
  const r = await run(requests);
  await sleep(1000);
  return { requests: r.requests.total, before, after: treeRssMb(pid), errors: r.errors + r.non2xx };
}

/** CPU the server and worker use while nothing happens, in % of one core over `ms`. */
async function idleCpuPercent(pid, ms = 5_000) {
  const c0 = treeCpuMs(pid);
  await sleep(ms);
  return ((treeCpuMs(pid) - c0) / ms) * 100;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * q)];
const fmt = (n, d = 0) => n.toFixed(d);
/** "median % (p25–p75, min–max)" of ratios. */
const pct = (xs) =>
  `${fmt(median(xs) * 100)} % (${fmt(quantile(xs, 0.25) * 100)}–${fmt(quantile(xs, 0.75) * 100)}, ${fmt(Math.min(...xs) * 100)}–${fmt(Math.max(...xs) * 100)})`;

async function main() {
  const work = mkdtempSync(join(tmpdir(), "kiln-bench-"));
  const runtime = await bundleRuntime(work);
  const noop = await compileFixture(work, "noop.ts");
  const py = pythonProject(work, "noop", PYTHON_NOOP);
  // Cog's usual shape, a plain `def predict` (one at a time: measured at 1 connection only).
  const pySync = pythonProject(work, "noop-sync", PYTHON_NOOP.replace("async def", "def"));
  const nodeFlags = CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", resolve(CPU_PROF)] : [];
  // 8 slots so the 8-connection runs measure throughput, not 409s (both no-ops are async).
  const slots = { COG_MAX_CONCURRENCY: "8" };
  const specs = {
    ts: { ...runtime, dir: noop.dir, predictor: `${noop.file}:predictor`, env: slots, nodeFlags },
    // The same TS predictor in a node process of its own (KILN_NODE_WORKER_MODE=process) instead of
    // the default worker thread.
    tsProcess: {
      ...runtime,
      dir: noop.dir,
      predictor: `${noop.file}:predictor`,
      env: { ...slots, KILN_NODE_WORKER_MODE: "process" },
      nodeFlags,
    },
    python: {
      ...runtime,
      dir: py.dir,
      predictor: "predict.py:Predictor",
      env: { ...slots, ...py.env },
      nodeFlags,
    },
    pysync: { ...runtime, dir: pySync.dir, predictor: "predict.py:Predictor", env: pySync.env, nodeFlags },
  };

  const ready = { ts: [], tsProcess: [], python: [] };
  const readyCpu = { ts: [], tsProcess: [], python: [] };
  // READY is measured as coldstart.mjs measures it, so the two agree: by the server's ready log line
  // (polling /health-check every few ms took CPU from the starting server and more than doubled the
  // figure on a busy machine), and without a machine-wide NODE_EXTRA_CA_CERTS, which images do not
  // have and which costs each node process (server and worker) ~40 ms of CPU as it starts.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  for (let i = 0; i < 5; i++)
    for (const kind of ["ts", "tsProcess", "python"]) {
      const k = await startKiln({ ...specs[kind], readyBy: "log" });
      ready[kind].push(k.readyMs);
      readyCpu[kind].push(k.readyCpuMs);
      await k.stop();
    }
  if (extraCa !== undefined) process.env.NODE_EXTRA_CA_CERTS = extraCa;

  const servers = {
    bare: await startBare(),
    relay: await startBare("bare-relay.mjs"),
    ts: await startKiln(specs.ts),
    tsProcess: await startKiln(specs.tsProcess),
    python: await startKiln(specs.python),
    pysync: await startKiln(specs.pysync),
  };
  await sleep(500);
  const idle = {};
  for (const kind of ["ts", "tsProcess", "python", "pysync"])
    idle[kind] = { rss: treeRssMb(servers[kind].pid), serverRss: rssKb(servers[kind].pid) / 1024 };
  for (const kind of ["ts", "tsProcess", "python"]) idle[kind].cpu = await idleCpuPercent(servers[kind].pid);
  const bareRss = treeRssMb(servers.bare.pid);

  if (PIN) {
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)]);
    for (const s of Object.values(servers)) pin(s.pid, 1);
  }
  for (const [kind, s] of Object.entries(servers)) {
    await cannon(s.url, kind === "pysync" ? 1 : 8, 2); // JIT
    await settle(s.url, kind);
  }
  const loadAvg = loadavg()[0];
  const KINDS = ["bare", "relay", "ts", "tsProcess", "python", "pysync"];
  const kindsAt = (c) => (c === 1 ? KINDS : KINDS.filter((k) => k !== "pysync"));
  const runs = Object.fromEntries(KINDS.map((k) => [k, { 1: [], 8: [] }]));
  // Interleaved rounds: a busy moment on the shared machine hits every server alike. The order
  // rotates, so no server always runs right after the same one.
  for (let round = 0; round < ROUNDS; round++)
    for (const c of [1, 8]) {
      const kinds = kindsAt(c);
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
      const row = {};
      for (const kind of order)
        row[kind] = await load(kind, servers[kind].url, c, DURATION, servers[kind].pid);
      for (const kind of kinds) runs[kind][c].push(row[kind]);
    }
  const loadedRss = treeRssMb(servers.ts.pid);
  const g = await growth(servers.ts.url, servers.ts.pid, GROWTH_REQUESTS);
  const gProc = await growth(servers.tsProcess.url, servers.tsProcess.pid, GROWTH_REQUESTS);
  const gPy = await growth(servers.python.url, servers.python.pid, GROWTH_REQUESTS);
  const idleAfter = await idleCpuPercent(servers.ts.pid);
  for (const s of Object.values(servers)) await s.stop();
  rmSync(work, { recursive: true, force: true });

  const m = (kind, c, key) => median(runs[kind][c].map((r) => r[key]));
  // Per round: kiln's figure over bare's in the same round.
  const perRound = (kind, c, key) => runs[kind][c].map((r, i) => r[key] / runs.bare[c][i][key]);
  const label = {
    bare: "bare node:http (parse JSON, answer JSON)",
    relay: "bare node:http + one pipe round trip to a child (bare-relay.mjs)",
    ts: "kiln, TS no-op (worker thread, the default)",
    tsProcess: "kiln, TS no-op (KILN_NODE_WORKER_MODE=process)",
    python: "kiln, Python no-op (`async def`)",
    pysync: "kiln, Python no-op (`def`, one at a time)",
  };
  const uptime = execFileSync("uptime").toString().trim();
  const lines = [
    "# Predict server benchmark",
    "",
    `Command: \`node bench/server.mjs${argv.length ? ` ${argv.join(" ")}` : ""}\` · \`uptime\` at the end: ${uptime}`,
    "",
    `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU (${cpus()[0]?.model ?? "?"}) · ` +
      `autocannon in the driver process, ${ROUNDS} interleaved rounds of ${DURATION} s per server and connection count, ` +
      `each after a ${WARMUP} s warm-up, the order rotating every round${PIN ? "; driver pinned to CPU 0, servers to CPU 1 (taskset)" : ""}.`,
    `1-minute load average before the load rounds: ${loadAvg.toFixed(1)} on ${cpus().length} CPUs (the machine is shared:`,
    "absolute figures are noisy; the ratio to the bare server in the same round is the meaningful one. CPU ms",
    "per request (user+sys of the server and its worker, from /proc) depends less on how busy the machine is,",
    "but wake-ups cost more on a loaded VM: compare figures of one run).",
    "",
    "| server | connections | req/s (median) | p50 ms | p99 ms | CPU ms/request | of which the server process | main thread / busiest other thread |",
    "|---|---|---|---|---|---|---|---|",
    ...[1, 8].flatMap((c) =>
      kindsAt(c).map(
        (k) =>
          `| ${label[k]} | ${c} | ${fmt(m(k, c, "rps"))} | ${m(k, c, "p50")} | ${m(k, c, "p99")} | ${fmt(m(k, c, "cpuPerReq"), 3)} | ${k === "bare" ? "" : fmt(m(k, c, "serverCpuPerReq"), 3)} | ${fmt(m(k, c, "mainThreadPerReq"), 3)} / ${fmt(m(k, c, "otherThreadPerReq"), 3)} |`,
      ),
    ),
    "",
    "Ratios to bare in the same round: median (interquartile range, min–max) over the rounds.",
    "",
    "| measure | TS worker (thread) | Python worker | goal | TS worker (process) |",
    "|---|---|---|---|---|",
    `| req/s at 1 connection / bare | ${pct(perRound("ts", 1, "rps"))} | ${pct(perRound("python", 1, "rps"))} (\`def\`: ${pct(perRound("pysync", 1, "rps"))}) | ≥ 50 % | ${pct(perRound("tsProcess", 1, "rps"))} |`,
    `| req/s at 1 connection / bare, for bare + a pipe round trip (the floor with a worker process) | ${pct(perRound("relay", 1, "rps"))} | | |`,
    `| req/s at 8 connections / bare | ${pct(perRound("ts", 8, "rps"))} | ${pct(perRound("python", 8, "rps"))} | | ${pct(perRound("tsProcess", 8, "rps"))} |`,
    `| CPU per request, bare / bare + pipe round trip, 1 connection | ${fmt(m("bare", 1, "cpuPerReq"), 3)} / ${fmt(m("relay", 1, "cpuPerReq"), 3)} ms | | |`,
    `| CPU per request, bare / bare + pipe round trip, 8 connections | ${fmt(m("bare", 8, "cpuPerReq"), 3)} / ${fmt(m("relay", 8, "cpuPerReq"), 3)} ms | | |`,
    `| server+worker CPU per prediction, 1 connection | ${fmt(m("ts", 1, "cpuPerReq"), 3)} ms | ${fmt(m("python", 1, "cpuPerReq"), 3)} ms (\`def\`: ${fmt(m("pysync", 1, "cpuPerReq"), 3)} ms) | ≤ 0.10 / ≤ 0.15 ms | ${fmt(m("tsProcess", 1, "cpuPerReq"), 3)} ms |`,
    `| server+worker CPU per prediction, 8 connections | ${fmt(m("ts", 8, "cpuPerReq"), 3)} ms | ${fmt(m("python", 8, "cpuPerReq"), 3)} ms | ≤ 0.10 / ≤ 0.15 ms | ${fmt(m("tsProcess", 8, "cpuPerReq"), 3)} ms |`,
    `| CPU per prediction ÷ bare's in the same round, 1 / 8 connections | ${fmt(median(perRound("ts", 1, "cpuPerReq")), 1)}× / ${fmt(median(perRound("ts", 8, "cpuPerReq")), 1)}× | ${fmt(median(perRound("python", 1, "cpuPerReq")), 1)}× / ${fmt(median(perRound("python", 8, "cpuPerReq")), 1)}× | | ${fmt(median(perRound("tsProcess", 1, "cpuPerReq")), 1)}× / ${fmt(median(perRound("tsProcess", 8, "cpuPerReq")), 1)}× |`,
    `| start to READY (its ready log line, NODE_EXTRA_CA_CERTS unset, as in coldstart.mjs), median of 5 (min–max) | ${fmt(median(ready.ts))} ms (${fmt(Math.min(...ready.ts))}–${fmt(Math.max(...ready.ts))}) | ${fmt(median(ready.python))} ms (${fmt(Math.min(...ready.python))}–${fmt(Math.max(...ready.python))}) | ≤ 250 / ≤ 300 ms | ${fmt(median(ready.tsProcess))} ms |`,
    `| CPU time to READY, median of 5 | ${fmt(median(readyCpu.ts))} ms | ${fmt(median(readyCpu.python))} ms | | ${fmt(median(readyCpu.tsProcess))} ms |`,
    `| idle RSS, server + worker | ${fmt(idle.ts.rss, 1)} MB (server ${fmt(idle.ts.serverRss, 1)}) | ${fmt(idle.python.rss, 1)} MB (server ${fmt(idle.python.serverRss, 1)}; \`def\`: ${fmt(idle.pysync.rss, 1)} MB) | ≤ 80 / ≤ 60 MB | ${fmt(idle.tsProcess.rss, 1)} MB |`,
    `| RSS growth over ${g.requests} predictions after 5k warm-up | ${fmt(g.before, 1)} → ${fmt(g.after, 1)} MB (${fmt(g.after - g.before, 1)} MB, ${g.errors} errors) | ${fmt(gPy.before, 1)} → ${fmt(gPy.after, 1)} MB (${fmt(gPy.after - gPy.before, 1)} MB) | retention budget + ≤ 5 MB | ${fmt(gProc.after - gProc.before, 1)} MB |`,
    `| CPU while idle (5 s), before / after the load | ${fmt(idle.ts.cpu, 2)} % / ${fmt(idleAfter, 2)} % of a core | ${fmt(idle.python.cpu, 2)} % | 0 % | ${fmt(idle.tsProcess.cpu, 2)} % |`,
    `| RSS after the load rounds | ${fmt(loadedRss, 1)} MB | | |`,
    `| bare server RSS (reference) | ${fmt(bareRss, 1)} MB | | |`,
    "",
  ];
  writeResults(root, "server", lines);
}

runBenchmark(main);
