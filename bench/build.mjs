#!/usr/bin/env node
// kiln build benchmark: a TS predictor with 1 GiB of random weights (4 x 256 MiB, declared under
// weights:). Measures the cold build, the rebuild after a one-line code change, the bytes of layers
// that changed between the two (what a push would upload), and building the context vs `tar`.
// Needs `npm run build` (dist/) and the local base image kiln-test/node. Writes bench/results/build.md.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { extract } from "tar-stream";
import { writeRandomWeights } from "./lib.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const kilnBin = join(root, "bin/kiln.js");
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const WEIGHT_FILES = Number(process.env.BENCH_WEIGHT_FILES ?? 4);
const WEIGHT_MIB = Number(process.env.BENCH_WEIGHT_MIB ?? 256);
const tag = `kiln-bench/build:${process.pid}`;

const { listContext, streamContext } = await import(join(root, "dist/build/context.js"));
const { prepareBuild } = await import(join(root, "dist/build/prepare.js"));
const { loadManifest } = await import(join(root, "dist/manifest/load.js"));
const { findRuntimeBundle } = await import(join(root, "dist/build/bundle.js"));

function makeProject() {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-"));
  writeFileSync(
    join(dir, "cog.yaml"),
    'build:\n  node_version: 20\npredict: "predict.ts:predictor"\nweights:\n  - weights/\n',
  );
  writeFileSync(
    join(dir, "predict.ts"),
    'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({\n  inputs: { text: z.string() },\n  output: z.string(),\n  predict: async ({ text }) => `hello ${text}`,\n});\n',
  );
  writeRandomWeights(dir, WEIGHT_FILES, WEIGHT_MIB);
  return dir;
}

function kiln(args, cwd) {
  const t = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [kilnBin, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result: JSON.parse(out) };
}

/** Uncompressed size of each layer (by diff id), read from `docker save` without writing it anywhere. */
async function layerSizes(image) {
  const proc = spawn(DOCKER, ["save", image], { stdio: ["ignore", "pipe", "inherit"] });
  const sizes = new Map();
  let manifest = null;
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    const chunks = [];
    stream.on("data", (c) => {
      if (header.name === "manifest.json") chunks.push(c);
    });
    stream.on("end", () => {
      if (header.name.endsWith("/layer.tar")) sizes.set(header.name, header.size);
      if (header.name === "manifest.json") manifest = JSON.parse(Buffer.concat(chunks).toString());
      next();
    });
  });
  await pipeline(proc.stdout, ex);
  const layers = manifest[0].Layers;
  const diffIds = JSON.parse(
    execFileSync(DOCKER, ["image", "inspect", "--format", "{{json .RootFS.Layers}}", image], {
      encoding: "utf8",
    }),
  );
  return new Map(diffIds.map((id, i) => [id, sizes.get(layers[i]) ?? 0]));
}

async function timeContext(dir) {
  const { manifest } = await loadManifest({ cwd: dir });
  const t = process.hrtime.bigint();
  const prepared = await prepareBuild(manifest, {});
  const entries = await listContext({
    root: dir,
    plan: prepared.plan,
    dockerfile: prepared.dockerfile,
    runtimeBundle: findRuntimeBundle(),
  });
  const { stream, done } = streamContext(entries);
  await pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() }));
  const { bytes } = await done;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, bytes };
}

function timeTar(dir) {
  const t = process.hrtime.bigint();
  // Piped through cat: GNU tar skips reading file data when it writes straight to /dev/null.
  execFileSync("sh", ["-c", `tar -cf - -C '${dir}' . | cat > /dev/null`]);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

const dir = makeProject();
try {
  const base = [
    "build",
    "-t",
    tag,
    "--base-image",
    "kiln-test/node",
    "--node-image",
    "kiln-test/node",
    "--json",
  ];
  const cold = kiln([...base, "--no-cache"], dir);
  appendFileSync(join(dir, "predict.ts"), "// one-line change\n");
  const warm = kiln(base, dir);
  const sizes = await layerSizes(tag);
  const before = new Set(cold.result.layers);
  const changed = warm.result.layers.filter((l) => !before.has(l));
  const changedBytes = changed.reduce((n, l) => n + (sizes.get(l) ?? 0), 0);
  const imageBytes = [...sizes.values()].reduce((a, b) => a + b, 0);

  const ctx = [];
  const tar = [];
  for (let i = 0; i < 3; i++) {
    ctx.push(await timeContext(dir));
    tar.push(timeTar(dir));
  }
  const ctxMs = median(ctx.map((c) => c.ms));
  const tarMs = median(tar);

  const lines = [
    "# kiln build benchmark",
    "",
    `Run: ${new Date().toISOString()}, node ${process.version}, ${execFileSync(DOCKER, ["version", "--format", "Docker {{.Server.Version}}"], { encoding: "utf8" }).trim()}, ${execFileSync("nproc", { encoding: "utf8" }).trim()} CPUs (shared).`,
    `Project: TS predictor + ${WEIGHT_FILES} x ${WEIGHT_MIB} MiB random weights declared under \`weights:\`; base kiln-test/node.`,
    "",
    "| measure | value | target |",
    "|---|---|---|",
    `| cold build (--no-cache) | ${(cold.ms / 1000).toFixed(1)} s | |`,
    `| rebuild after a one-line code change | ${(warm.ms / 1000).toFixed(2)} s (${((warm.ms / cold.ms) * 100).toFixed(1)}% of cold) | < 10% |`,
    `| layers changed | ${changed.length} of ${warm.result.layers.length} | |`,
    `| bytes of changed layers (what a push uploads) | ${mib(changedBytes)} of ${mib(imageBytes)} (${((changedBytes / imageBytes) * 100).toFixed(3)}%) | < 1% |`,
    `| build context (${mib(ctx[0].bytes)}) | ${(ctxMs / 1000).toFixed(2)} s | |`,
    `| \`tar -c\` of the same tree | ${(tarMs / 1000).toFixed(2)} s (kiln/tar = ${(ctxMs / tarMs).toFixed(2)}x) | <= 1.5x |`,
    "",
    `Timings of the kiln build itself (cold): ${JSON.stringify(cold.result.timings)}; (rebuild): ${JSON.stringify(warm.result.timings)}.`,
    "Context and tar times are medians of 3 runs with a warm page cache.",
    "",
  ];
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/build.md"), lines.join("\n"));
  process.stdout.write(lines.join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
  // ...and the dependencies image it was built on (kiln-deps:<fingerprint>, named by its label).
  const fp = execFileSync(
    DOCKER,
    ["image", "inspect", "-f", '{{index .Config.Labels "kiln.deps.fingerprint"}}', tag],
    { encoding: "utf8" },
  ).trim();
  execFileSync(DOCKER, ["image", "rm", "-f", tag], { stdio: "ignore" });
  if (fp) execFileSync(DOCKER, ["image", "rm", "-f", `kiln-deps:${fp.slice(0, 24)}`], { stdio: "ignore" });
}
