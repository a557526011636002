// How long `kiln train --no-docker` takes to bring back weights of 0-100 MiB (the trainer writes an
// incompressible file, kiln writes it to -o), and its peak memory. In the same run, two references:
// the same command with a 1-byte weights file (start-up, setup and teardown: the fixed cost), and
// node encoding the weights as a base64 data URI and decoding them back (the least any data-URI
// transfer costs). Each run is a fresh `node bin/kiln.js` process, as a user's is.
// Uses dist/ (run `npm run build` first). Writes bench/results/train-weights.md.
// Usage: node bench/train-weights.mjs [--runs 3]
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const argv = process.argv.slice(2);
const r = argv.indexOf("--runs");
const RUNS = r >= 0 ? Number(argv[r + 1]) : 3;
const SIZES_MIB = [10, 50, 100];
if (!existsSync(join(root, "dist/cli/main.js")) || !existsSync(join(root, "dist/runtime-bundle"))) {
  console.error("bench/train-weights: run `npm run build` first (dist/ is missing)");
  process.exit(1);
}
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

const work = mkdtempSync(join(tmpdir(), "kiln-bench-train-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
writeFileSync(
  join(work, "cog.yaml"),
  'build:\n  node_version: 20\npredict: "predict.ts:predictor"\ntrain: "train.ts:trainer"\n',
);
writeFileSync(
  join(work, "predict.ts"),
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "" });\n',
);
// The weights file is made before the run (source), so the trainer's own work is a copy.
writeFileSync(
  join(work, "train.ts"),
  [
    'import { copyFileSync, mkdtempSync } from "node:fs";',
    'import { tmpdir } from "node:os";',
    'import { join } from "node:path";',
    'import { defineTrainer, z } from "kiln-ml";',
    "export const trainer = defineTrainer({",
    "  inputs: { source: z.string() },",
    "  train: ({ source }) => {",
    '    const out = join(mkdtempSync(join(tmpdir(), "kiln-bench-w-")), "weights.bin");',
    "    copyFileSync(source, out);",
    "    return { weights: out };",
    "  },",
    "});",
    "",
  ].join("\n"),
);

function source(mib) {
  const file = join(work, `source-${mib}.bin`);
  const buf = Buffer.alloc(Math.max(1, mib * 1024 * 1024));
  writeFileSync(file, mib === 0 ? Buffer.from("w") : randomFillSync(buf));
  return file;
}

/** One `kiln train`: wall ms and peak RSS (KiB, of the kiln process, which holds the server too). */
function train(file) {
  const args = [join(root, "bin/kiln.js"), "train", "--no-docker", "-i", `source=${file}`, "-o", "out.bin"];
  const cmd = TIME ? TIME : process.execPath;
  const full = TIME ? ["-f", "%M", process.execPath, ...args] : args;
  const t0 = process.hrtime.bigint();
  const res = spawnSync(cmd, full, { cwd: work, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 0) {
    console.error(res.stderr);
    process.exit(1);
  }
  if (statSync(join(work, "out.bin")).size !== statSync(file).size) throw new Error("weights differ in size");
  const rss = TIME ? Number(res.stderr.trim().split("\n").at(-1)) : NaN;
  return { ms, rss };
}

function dataUriRoundTrip(file) {
  const t0 = process.hrtime.bigint();
  const uri = `data:application/octet-stream;base64,${readFileSync(file).toString("base64")}`;
  const back = Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64");
  if (back.length !== statSync(file).size) throw new Error("round trip lost bytes");
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Compile once (first run) outside the measurement.
train(source(0));
const base = source(0);
const fixed = median(Array.from({ length: RUNS }, () => train(base).ms));
const rows = [];
for (const mib of SIZES_MIB) {
  const file = source(mib);
  const runs = Array.from({ length: RUNS }, () => train(file));
  const ms = median(runs.map((x) => x.ms));
  const rss = Math.max(...runs.map((x) => x.rss));
  const floor = median(Array.from({ length: RUNS }, () => dataUriRoundTrip(file)));
  rows.push({ mib, ms, rss, floor, perMib: (ms - fixed) / mib });
  rmSync(file);
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
const lines = [
  "# kiln train: bringing the weights back",
  "",
  `\`node bench/train-weights.mjs --runs ${RUNS}\` (medians of ${RUNS} runs; ${cpus().length} CPUs, load average ${load} at the end;`,
  `node ${process.version}). Each run is \`kiln train --no-docker\` with a TS trainer returning \`{ weights }\``,
  "(a copy of an incompressible file); kiln writes it to `-o out.bin`. The fixed cost is the same",
  `command with 1-byte weights: **${(fixed / 1000).toFixed(2)} s**. The floor is node alone encoding the`,
  "weights as a base64 data URI and decoding them back, the least any data-URI transfer costs.",
  "",
  "| weights | kiln train | above the fixed cost | per MiB | data-URI floor | (train - fixed) / floor | peak RSS |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(
    (x) =>
      `| ${x.mib} MiB | ${(x.ms / 1000).toFixed(2)} s | ${((x.ms - fixed) / 1000).toFixed(2)} s | ${x.perMib.toFixed(1)} ms | ${x.floor.toFixed(0)} ms | ${((x.ms - fixed) / x.floor).toFixed(1)}x | ${Number.isNaN(x.rss) ? "n/a" : `${Math.round(x.rss / 1024)} MiB`} |`,
  ),
  "",
  "With `--no-docker` the server runs inside the kiln process, so the peak RSS counts both ends of the",
  "transfer (the server's data URI and SSE frame, the client's copy and the decoded bytes).",
  "",
];
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/train-weights.md"), lines.join("\n"));
console.log(lines.join("\n"));
