#!/usr/bin/env node
// Benchmark: the Redis fleet. (1) Throughput of a 200 ms sleep model with 1, 2 and 4 replicas behind one
// gateway, as a ratio to one replica measured in the same run (target: >= 0.9 x N). (2) The gateway's
// added latency: Prefer: wait predictions of a no-op model through the gateway vs the same replica's own
// /v1 (what kiln serve answers), interleaved call by call (target: p50 difference < 2 ms).
// Real redis-server (Debian's, on a port in 45000-45999); the gateway and every replica in their own
// processes (replicas run the image entry, dist/runtime-bundle/server.mjs, with KILN_QUEUE). Needs
// `npm run build` (uses dist/).
// Usage: node bench/fleet.mjs [--n 400] [--per-replica 25] [--out bench/results/fleet.md]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileBenchPredictor, freePortInRange, until } from "./lib.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg("n", "400"));
const PER_REPLICA = Number(arg("per-replica", "25"));
const OUT = arg("out", join(REPO, "bench/results/fleet.md"));

const work = mkdtempSync(join(tmpdir(), "kiln-bench-fleet-"));
const children = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);

const freePortInRange45 = () => freePortInRange(45000, 46000);

// Redis
const redisPort = await freePortInRange45();
const redis = spawn(
  "redis-server",
  ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", work, "--save", "", "--appendonly", "no"],
  { stdio: "ignore" },
);
children.push(redis);
redis.once("error", (err) => {
  console.error(`redis-server could not start (${err.message}): provision with bash scripts/test-env.sh`);
  process.exit(1);
});
const redisUrl = `redis://127.0.0.1:${redisPort}`;
await until(
  () =>
    new Promise((r) => {
      const s = new Socket();
      s.once("error", () => r(false));
      s.connect(redisPort, "127.0.0.1", () => s.write("PING\r\n"));
      s.once("data", (d) => (s.destroy(), r(String(d).startsWith("+PONG"))));
    }),
  10_000,
  "redis-server",
);

// Gateway, in its own process (as deployed).
const gwPort = await freePortInRange45();
const gateway = spawn(
  process.execPath,
  [
    join(REPO, "dist/fleet/gateway-main.js"),
    "--redis",
    redisUrl,
    "--port",
    String(gwPort),
    "--host",
    "127.0.0.1",
  ],
  { stdio: "ignore", env: { ...process.env, COG_LOG_LEVEL: "warn", KILN_QUEUE_SIZE: "10000" } },
);
children.push(gateway);
const gw = `http://127.0.0.1:${gwPort}`;
await until(async () => (await fetch(`${gw}/health-check`)).ok, 10_000, "gateway");

// Models
async function compile(name, source) {
  const root = join(work, name);
  return { root, file: await compileBenchPredictor(REPO, "fleet", root, source) };
}
const sleepModel = await compile(
  "sleep",
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: async () => { await new Promise((r) => setTimeout(r, 200)); return "ok"; } });\n',
);
const noopModel = await compile(
  "noop",
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "ok" });\n',
);

// A replica is the image's entry (dist/runtime-bundle/server.mjs) in queue mode, in its own process.
async function replica(model, version) {
  const port = await freePortInRange45();
  const child = spawn(
    process.execPath,
    [join(REPO, "dist/runtime-bundle/server.mjs"), "--host", "127.0.0.1"],
    {
      stdio: "ignore",
      env: {
        ...process.env,
        PORT: String(port),
        KILN_ROOT: model.root,
        KILN_PREDICTOR: `${model.file}:predictor`,
        KILN_NODE_WORKER: join(REPO, "dist/runtime-bundle/node-worker.mjs"),
        KILN_QUEUE: redisUrl,
        KILN_MODEL_VERSION: version,
        KILN_MODEL: `bench/${version}`,
        KILN_READY_FILE: "",
        COG_LOG_LEVEL: "warn",
      },
    },
  );
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await (await fetch(`${url}/health-check`)).json()).status === "READY",
    20_000,
    "replica",
  );
  await until(
    async () => (await fetch(`${gw}/v1/models/bench/${version}/versions`)).ok,
    10_000,
    "registration",
  );
  const exited = new Promise((r) => child.once("exit", r));
  return {
    url,
    close: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function predict(base, version) {
  const res = await fetch(`${base}/v1/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json", prefer: "wait" },
    body: JSON.stringify({ version, input: {} }),
  });
  const body = await res.json();
  if (res.status !== 201 || body.status !== "succeeded")
    throw new Error(`prediction failed: ${res.status} ${JSON.stringify(body)}`);
}

// (1) Throughput with 1, 2, 4 replicas: 2 x N clients keep the queue full; count / wall time.
const throughput = [];
const replicas = [];
for (const n of [1, 2, 4]) {
  const version = `sleep-${n}`;
  for (let i = 0; i < n; i++) replicas.push(await replica(sleepModel, version));
  // Warm-up (JIT, connections, every replica's first claim): 2 predictions per replica, not counted.
  await Promise.all(Array.from({ length: 2 * n }, () => predict(gw, version)));
  const total = PER_REPLICA * n;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 2 * n }, async () => {
      while (next < total) {
        next++;
        await predict(gw, version);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  throughput.push({ n, total, seconds, perSecond: total / seconds });
  await Promise.all(replicas.splice(0).map((s) => s.close()));
}
const one = throughput[0].perSecond;

// (2) Added latency: the same replica's own /v1 vs through the gateway, interleaved.
const noop = await replica(noopModel, "noop");
const direct = [];
const viaGateway = [];
const timed = async (fn, into) => {
  const t0 = process.hrtime.bigint();
  await fn();
  if (into) into.push(Number(process.hrtime.bigint() - t0) / 1e6);
};
for (let i = 0; i < 100; i++) {
  await timed(() => predict(noop.url, "noop"));
  await timed(() => predict(gw, "noop"));
}
for (let i = 0; i < N; i++) {
  await timed(() => predict(noop.url, "noop"), direct);
  await timed(() => predict(gw, "noop"), viaGateway);
}
await noop.close();
gateway.kill("SIGTERM");
redis.kill("SIGTERM");

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p99: q(0.99) };
};
const d = stats(direct);
const g = stats(viaGateway);
const added = g.p50 - d.p50;
const f = (x, k = 3) => x.toFixed(k);
const rows = throughput
  .map((t) => {
    const ratio = t.perSecond / one;
    const ok = ratio >= 0.9 * t.n ? "meets" : "MISSES";
    return `| ${t.n} | ${t.total} | ${f(t.seconds, 2)} | ${f(t.perSecond, 2)} | ${f(ratio, 2)}x | ${f(0.9 * t.n, 1)}x | ${ok} |`;
  })
  .join("\n");
const scalingOk = throughput.every((t) => t.perSecond / one >= 0.9 * t.n);
const latencyOk = added < 2;
const md = `# Fleet: replicas behind the gateway (Redis Streams)

Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}) ·
redis-server on 127.0.0.1 · the gateway (\`dist/fleet/gateway-main.js\`) and each replica (the image entry
\`dist/runtime-bundle/server.mjs\` with \`KILN_QUEUE\`, one slot, its own node worker) in their own processes;
the clients in the benchmark process.

## Throughput: a 200 ms sleep model, 1, 2 and 4 replicas

${PER_REPLICA} predictions per replica (after 2 warm-up ones each), \`Prefer: wait\`, 2 concurrent clients per replica
(the queue never runs dry).
The ceiling is one replica measured in the same run.

| replicas | predictions | seconds | predictions/s | ÷ 1 replica | target | |
|---|---|---|---|---|---|---|
${rows}

## Added latency: gateway vs the replica's own /v1

A no-op model, ${N} sequential \`Prefer: wait\` predictions each way, interleaved call by call after 100
warm-up pairs. "direct" is the replica's own \`/v1\` (what \`kiln serve\` answers); "gateway" goes
client → gateway → Redis stream → replica → Redis → gateway → client.

| path | n | mean ms | p50 ms | p99 ms |
|---|---|---|---|---|
| direct (kiln serve /v1) | ${d.n} | ${f(d.mean)} | ${f(d.p50)} | ${f(d.p99)} |
| through the gateway | ${g.n} | ${f(g.mean)} | ${f(g.p50)} | ${f(g.p99)} |

Gateway added latency, p50: **${f(added)} ms** (target < 2 ms — ${latencyOk ? "meets" : "MISSES"} it).

Machine load average during the run: ${loadavg()
  .map((x) => x.toFixed(1))
  .join(" / ")} (1/5/15 min); on a shared machine absolute numbers are noisy.

Reproduce: \`npm run build && node bench/fleet.mjs\` (options: \`--n 400\`, \`--per-replica 25\`, \`--out FILE\`).
`;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, md);
console.log(md);
if (!scalingOk || !latencyOk) process.exitCode = 2;
setTimeout(() => process.exit(process.exitCode ?? 0), 200);
