#!/usr/bin/env node
// kiln push benchmark: a Python model with 1 GiB of random weights (4 x 256 MiB under `weights:`).
// Push 1 builds and pushes; push 2 follows a one-line code change. For each: wall time, kiln's own
// build/push split, and the bytes the registry actually received (blobs PUT during the push, read
// from the registry's access log, sized from its blob store). Target: push 2 uploads < 1% of push 1's
// bytes in < 10% of its push time.
// Needs `npm run build` and scripts/test-env.sh (registry 127.0.0.1:5001, kiln-test/{python,node}).
// Writes bench/results/push.md.
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeRandomWeights } from "./lib.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const kilnBin = join(root, "bin/kiln.js");
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const REGISTRY = process.env.KILN_TEST_REGISTRY ?? "127.0.0.1:5001";
const REGISTRY_DIR = join(
  process.env.KILN_TEST_REGISTRY_DIR ?? "/tmp/kiln-test-registry",
  REGISTRY.split(":").pop(),
);
const LOG = join(REGISTRY_DIR, "registry.log");
const WEIGHT_FILES = Number(process.env.BENCH_WEIGHT_FILES ?? 4);
const WEIGHT_MIB = Number(process.env.BENCH_WEIGHT_MIB ?? 256);
const repo = `kiln-bench/push-${process.pid}`;
const image = `${REGISTRY}/${repo}:latest`;
const built = [];

function makeProject() {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-push-"));
  writeFileSync(
    join(dir, "cog.yaml"),
    `image: ${image}\nbuild:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\nweights:\n  - weights/\n`,
  );
  writeFileSync(
    join(dir, "predict.py"),
    "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, text: str) -> str:\n        return 'hello ' + text\n",
  );
  writeFileSync(
    join(dir, "schema.json"),
    '{"openapi":"3.0.2","info":{"title":"Cog","version":"0.1.0"},"paths":{}}',
  );
  writeRandomWeights(dir, WEIGHT_FILES, WEIGHT_MIB);
  return dir;
}

/** Blobs the registry received for our repository since `offset` in its log, with their stored sizes. */
function uploadedSince(offset) {
  const text = readFileSync(LOG).subarray(offset).toString("utf8");
  const digests = new Set();
  for (const line of text.split("\n")) {
    if (!line.includes(`PUT /v2/${repo}/blobs/uploads/`)) continue;
    const m = /digest=(sha256(?:%3A|:)[0-9a-f]{64})/.exec(line);
    if (m) digests.add(m[1].replace("%3A", ":").slice("sha256:".length));
  }
  let bytes = 0;
  for (const hex of digests)
    bytes += statSync(
      join(REGISTRY_DIR, "data/docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data"),
    ).size;
  return { blobs: digests.size, bytes };
}

function push(dir) {
  const offset = statSync(LOG).size;
  const t = process.hrtime.bigint();
  const args = [
    "push",
    "--base-image",
    "kiln-test/python",
    "--node-image",
    "kiln-test/node",
    "--openapi-schema",
    "schema.json",
    "--json",
  ];
  const out = execFileSync(process.execPath, [kilnBin, ...args], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
  const result = JSON.parse(out);
  if (result.build?.imageId) built.push(result.build.imageId);
  return {
    wallMs,
    buildMs: result.build?.buildMs ?? 0,
    pushMs: result.durationMs,
    digest: result.digest,
    layers: result.layers,
    ...uploadedSince(offset),
  };
}

const mib = (b) =>
  b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB (${b} B)` : `${(b / 1024 / 1024).toFixed(2)} MiB`;
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

const dir = makeProject();
try {
  const first = push(dir);
  appendFileSync(join(dir, "predict.py"), "# one-line change\n");
  const second = push(dir);
  const byteRatio = second.bytes / first.bytes;
  const timeRatio = second.pushMs / first.pushMs;
  const lines = [
    "# kiln push benchmark",
    "",
    `Date: ${new Date().toISOString()}; machine: ${process.env.BENCH_MACHINE ?? "2 shared cores"}; registry ${REGISTRY} (distribution 2.8, filesystem storage, same host).`,
    `Project: Python predictor + ${WEIGHT_FILES} x ${WEIGHT_MIB} MiB random weights under \`weights:\`; base kiln-test/python. Command: \`node bench/push.mjs\`.`,
    "",
    "| | wall (build + push) | build | push | blobs uploaded | bytes uploaded (registry) | layers pushed / already there |",
    "|---|---|---|---|---|---|---|",
    ...[
      ["push 1 (cold repository)", first],
      ["push 2 (one-line code change)", second],
    ].map(
      ([name, r]) =>
        `| ${name} | ${s(r.wallMs)} | ${s(r.buildMs)} | ${s(r.pushMs)} | ${r.blobs} | ${mib(r.bytes)} | ${r.layers.filter((l) => l.status === "pushed").length} / ${r.layers.filter((l) => l.status !== "pushed").length} |`,
    ),
    "",
    `Re-push uploads ${(byteRatio * 100).toFixed(4)}% of the first push's bytes (target < 1%: ${byteRatio < 0.01 ? "met" : "NOT met"}) and its push phase takes ${(timeRatio * 100).toFixed(1)}% of the first (target < 10%: ${timeRatio < 0.1 ? "met" : "NOT met"}).`,
    "Bytes are the stored (compressed) sizes of the blobs the registry received, taken from its access log; base-image layers",
    "already in the registry (from earlier pushes) are mounted, not uploaded, in both pushes.",
    "",
  ];
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/push.md"), lines.join("\n"));
  process.stdout.write(lines.join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const ref of [image, ...built]) {
    try {
      execFileSync(DOCKER, ["image", "rm", "-f", ref], { stdio: "ignore" });
    } catch {
      // already gone (the tag and the last build are the same image)
    }
  }
}
