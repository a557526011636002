// Python-vs-TypeScript predictor overhead: the same kiln server (bundled src/runtime/main.ts) serving a
// no-op predictor through the real node worker and through the real Python worker (kiln_worker.py).
// Measures start-to-READY, sync POST /predictions req/s and p50/p99 at 1 and 8 connections (autocannon,
// loopback) and server+worker RSS. Writes bench/results/python-worker.md.
// Usage: node bench/python-worker.mjs [--duration 5] [--python /path/to/python3]
import autocannon from "autocannon";
import { build } from "esbuild";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { childrenOf, freePort, rssKb } from "./lib.mjs";
import { waitUntilReady } from "./server-lib.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const DURATION = Number(arg("duration", "5"));
// The real interpreter, not a pyenv shim (a shim adds ~0.3 s of bash to every start).
const PYTHON = arg(
  "python",
  execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim(),
);
const work = mkdtempSync(join(tmpdir(), "kiln-bench-py-"));
const PY_DIR = join(root, "src/runtime/workers/python");

async function prepare() {
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  const bundle = (entry, outfile) =>
    build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
      define: { __KILN_VERSION__: JSON.stringify(version) },
    });
  await bundle(join(root, "src/runtime/main.ts"), join(work, "server.mjs"));
  await bundle(join(root, "src/runtime/workers/node/main.ts"), join(work, "node-worker.mjs"));
  const ts = join(work, "ts");
  mkdirSync(ts);
  writeFileSync(
    join(ts, "noop.ts"),
    `import { definePredictor, z } from ${JSON.stringify(join(root, "src/sdk/index.ts"))};\n` +
      `export const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "ok" });\n`,
  );
  await bundle(join(ts, "noop.ts"), join(ts, "noop.mjs"));
  const py = join(work, "py");
  mkdirSync(py);
  writeFileSync(
    join(py, "predict.py"),
    'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return "ok"\n',
  );
  writeFileSync(
    join(py, "apredict.py"),
    'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    async def predict(self) -> str:\n        return "ok"\n',
  );
  return {
    server: join(work, "server.mjs"),
    cases: [
      // Sync endpoints answer 409 when every slot is busy, so 8 connections need 8 slots (async predictors).
      {
        label: "TypeScript no-op (node worker), 8 slots",
        env: {
          KILN_ROOT: ts,
          KILN_PREDICTOR: "noop.mjs:predictor",
          KILN_NODE_WORKER: join(work, "node-worker.mjs"),
          COG_MAX_CONCURRENCY: "8",
        },
      },
      {
        label: "Python `def predict` no-op, 1 slot",
        connections: [1],
        env: {
          KILN_ROOT: py,
          KILN_PREDICTOR: "predict.py:Predictor",
          KILN_PYTHON: PYTHON,
          KILN_PYTHON_WORKER_DIR: PY_DIR,
        },
      },
      {
        label: "Python `async def predict` no-op, 8 slots",
        env: {
          KILN_ROOT: py,
          KILN_PREDICTOR: "apredict.py:Predictor",
          KILN_PYTHON: PYTHON,
          KILN_PYTHON_WORKER_DIR: PY_DIR,
          COG_MAX_CONCURRENCY: "8",
        },
      },
    ],
  };
}
/** [server MB, worker MB] */
const rss = (pid) => [rssKb(pid) / 1024, childrenOf(pid).reduce((a, c) => a + rssKb(c), 0) / 1024];

async function start(serverEntry, env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [serverEntry, "--host", "127.0.0.1", "--port", String(port)], {
    env: { ...process.env, ...env, COG_LOG_LEVEL: "error" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, child, t0, 30_000);
  const readyMs = performance.now() - t0;
  return {
    url,
    pid: child.pid,
    readyMs,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000); // a drain that hangs must not hang the bench
      await exited;
      clearTimeout(timer);
    },
  };
}

async function load(url, connections, duration) {
  const r = await autocannon({
    url: `${url}/predictions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: {} }),
    connections,
    duration,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function main() {
  const { server, cases } = await prepare();
  const rows = [];
  for (const c of cases) {
    const readies = [];
    for (let i = 0; i < 3; i++) {
      const k = await start(server, c.env);
      readies.push(k.readyMs);
      await k.stop();
    }
    readies.sort((a, b) => a - b);
    const k = await start(server, c.env);
    try {
      await sleep(300);
      const idle = rss(k.pid);
      const conns = c.connections ?? [1, 8];
      await load(k.url, Math.max(...conns), 2); // warm up
      const one = await load(k.url, 1, DURATION);
      const eight = conns.includes(8) ? await load(k.url, 8, DURATION) : null;
      const loaded = rss(k.pid);
      rows.push({ label: c.label, ready: readies[1], one, eight, idle, loaded });
    } finally {
      await k.stop();
    }
  }
  rmSync(work, { recursive: true, force: true });
  const f = (n, d = 0) => n.toFixed(d);
  const lines = [
    "# Python vs TypeScript predictor overhead",
    "",
    `Run: ${new Date().toISOString()} · node ${process.version} · ${PYTHON} · ${cpus().length} CPU · ${DURATION} s per load run, ` +
      "autocannon in the driver process, loopback, sync POST /predictions with `{input: {}}`.",
    "The machine is shared with other jobs: compare the two rows of one run, not runs with each other.",
    "",
    "| predictor | start→READY ms (median of 3) | 1 conn req/s | p50 / p99 ms | 8 conn req/s | p50 / p99 ms | RSS server / worker MB idle | after load |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${f(r.ready)} | ${f(r.one.rps)} | ${r.one.p50} / ${r.one.p99} | ${r.eight ? f(r.eight.rps) : "—"} | ${r.eight ? `${r.eight.p50} / ${r.eight.p99}` : "—"} | ` +
        `${f(r.idle[0], 1)} / ${f(r.idle[1], 1)} | ${f(r.loaded[0], 1)} / ${f(r.loaded[1], 1)} |`,
    ),
    "",
  ];
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/python-worker.md"), lines.join("\n"));
  console.log(lines.join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
