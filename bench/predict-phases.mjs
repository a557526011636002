// Benchmark: wall time of `kiln predict` for the hello-ts example on a warm image, split into phases
// (boot, prepare, container start, time to READY, prediction, teardown) from `kiln --debug` timings,
// plus the CLI's own overhead = wall - (container start + READY wait + prediction + teardown).
// Needs the Docker engine and the offline base images (scripts/test-env.sh).
// Usage: node bench/predict-phases.mjs [runs=7]   -> bench/results/predict-phases.json
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.argv[2] ?? 7);
const IMAGE = `kiln-bench/predict-phases:${process.pid}`;
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const run = promisify(execFile);

async function sources(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

// Same layout as `npm run build` (dist/), without its type check; and the runtime bundle for the image.
await build({
  entryPoints: await sources(join(ROOT, "src")),
  outdir: join(ROOT, "dist"),
  outbase: join(ROOT, "src"),
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "error",
});
await run(process.execPath, [join(ROOT, "scripts", "bundle-runtime.mjs")]);

function kiln(args, cwd) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, "bin", "kiln.js"), ...args], {
      cwd,
      env: { ...process.env, KILN_CONTAINER_LABELS: "kiln.bench=1", NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, wall: performance.now() - t0 }));
  });
}

function timingsOf(stderr) {
  const line = stderr.split("\n").find((l) => l.includes("timings (ms):"));
  if (!line) throw new Error(`no timings in:\n${stderr}`);
  return JSON.parse(line.slice(line.indexOf("{")));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const project = await mkdtemp(join(tmpdir(), "kiln-bench-predict-"));
try {
  await cp(join(ROOT, "examples", "hello-ts"), project, { recursive: true });
  await writeFile(
    join(project, "cog.yaml"),
    `build:\n  node_version: 20\n  base_image: kiln-test/node\npredict: "predict.ts:predictor"\nimage: ${IMAGE}\n`,
  );
  const warm = await kiln(
    ["predict", "--node-image", "kiln-test/node", "--progress", "quiet", "-i", "name=warm"],
    project,
  );
  if (warm.code !== 0) throw new Error(`warm-up failed:\n${warm.stderr}`);

  const modes = {
    image: ["--debug", "predict", IMAGE, "-i", "name=bench"],
    project: [
      "--debug",
      "predict",
      "--node-image",
      "kiln-test/node",
      "--progress",
      "quiet",
      "-i",
      "name=bench",
    ],
  };
  const results = {};
  for (const [mode, args] of Object.entries(modes)) {
    const samples = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await kiln(args, project);
      if (r.code !== 0 || r.stdout !== "Hello, bench!\n")
        throw new Error(`run failed (${r.code}):\n${r.stderr}`);
      const t = timingsOf(r.stderr);
      const wall = Math.round(r.wall);
      samples.push({ ...t, wall, cliOverhead: wall - t.start - t.ready - t.predict - t.teardown });
    }
    const keys = Object.keys(samples[0]);
    results[mode] = {
      medianMs: Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k]))])),
      samples,
    };
  }
  const leftovers = (await run(DOCKER, ["ps", "-aq", "--filter", "label=kiln.bench=1"])).stdout.trim();
  const report = {
    benchmark: "kiln predict, hello-ts, warm image",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg1: loadavg()[0], node: process.version },
    runs: RUNS,
    phases:
      "boot (node + module load), prepare (inputs, engine, build/inspect, input checks), start (container create+start), ready (to READY), predict, teardown (container removal), total (in-process), wall (as seen by the shell)",
    cliOverhead: "wall - start - ready - predict - teardown",
    target: "cliOverhead < 300 ms",
    results,
    containersLeft: leftovers ? leftovers.split("\n").length : 0,
  };
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(
    join(ROOT, "bench", "results", "predict-phases.json"),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  for (const [mode, r] of Object.entries(results)) console.log(mode, JSON.stringify(r.medianMs));
} finally {
  await rm(project, { recursive: true, force: true });
  // The dependencies image it was built on (kiln-deps:<fingerprint>, named by the label it passed down).
  const fp = (
    await run(DOCKER, [
      "image",
      "inspect",
      "-f",
      '{{index .Config.Labels "kiln.deps.fingerprint"}}',
      IMAGE,
    ]).catch(() => ({ stdout: "" }))
  ).stdout.trim();
  await run(DOCKER, ["image", "rm", "-f", IMAGE]).catch(() => undefined);
  if (fp) await run(DOCKER, ["image", "rm", "-f", `kiln-deps:${fp.slice(0, 24)}`]).catch(() => undefined);
}
