// What the type check adds to `kiln build` for the `kiln init` TypeScript starter: the check cold (no
// cache: TypeScript loaded and the program checked), cached (sources unchanged: only the hashes of the
// files the last pass read), and, measured in the same run, the esbuild compile every build does anyway
// and `tsc --noEmit` (what the user runs in the editor or CI) as references. Each measurement is a
// fresh node process, as each `kiln build` is. Uses dist/ (run `npm run build` first).
// Writes bench/results/typecheck.md. Usage: node bench/typecheck.mjs [--runs 5]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const argv = process.argv.slice(2);
const i = argv.indexOf("--runs");
const RUNS = i >= 0 ? Number(argv[i + 1]) : 5;
if (!existsSync(join(root, "dist/build/ts-typecheck.js"))) {
  console.error("bench/typecheck: run `npm run build` first (dist/ is missing)");
  process.exit(1);
}

// The starter project, written by the built CLI, laid out as if installed: node_modules/kiln-ml is this
// checkout (exports -> dist/sdk/index.d.ts), typescript and @types/node are the checkout's.
const work = mkdtempSync(join(tmpdir(), "kiln-bench-tc-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const project = join(work, "app");
execFileSync(process.execPath, [join(root, "bin/kiln.js"), "init", project], { stdio: "ignore" });
mkdirSync(join(project, "node_modules/@types"), { recursive: true });
symlinkSync(root, join(project, "node_modules/kiln-ml"));
symlinkSync(join(root, "node_modules/typescript"), join(project, "node_modules/typescript"));
symlinkSync(join(root, "node_modules/@types/node"), join(project, "node_modules/@types/node"));
mkdirSync(join(project, "node_modules/.bin"));
symlinkSync("../typescript/bin/tsc", join(project, "node_modules/.bin/tsc"));
const ref = { raw: "predict.ts:predictor", file: "predict.ts", name: "predictor", language: "typescript" };

/** Wall time of one fresh node process running `body` (an ES module) in the project directory. */
function timed(body) {
  const script = join(work, `step-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, body);
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [script], { cwd: project, stdio: ["ignore", "ignore", "inherit"] });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const check = (
  cache,
) => `import { typecheckTsPredictor } from ${JSON.stringify(join(root, "dist/build/ts-typecheck.js"))};
const r = await typecheckTsPredictor(${JSON.stringify(project)}, ${JSON.stringify(ref)}, { cache: ${cache} });
if (!r.checked || r.problems.length > 0) { console.error(JSON.stringify(r)); process.exit(1); }
if (${cache} && process.env.EXPECT_CACHED && !r.cached) { console.error("expected a cache hit"); process.exit(1); }`;
const compile = `import { compileTsPredictor } from ${JSON.stringify(join(root, "dist/build/ts-predictor.js"))};
await compileTsPredictor(${JSON.stringify(project)}, ${JSON.stringify(ref)});`;
const nodeStart = "";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const series = { node: [], compile: [], tsc: [], cold: [], cached: [] };
const cacheFile = join(project, ".kiln/typecheck.json");
// Interleaved rounds, so machine load drifts into every series alike.
for (let round = 0; round < RUNS; round++) {
  series.node.push(timed(nodeStart));
  series.compile.push(timed(compile));
  const t0 = process.hrtime.bigint();
  execFileSync(join(project, "node_modules/.bin/tsc"), ["--noEmit", "-p", project], { stdio: "inherit" });
  series.tsc.push(Number(process.hrtime.bigint() - t0) / 1e6);
  rmSync(cacheFile, { force: true });
  series.cold.push(timed(check(true))); // cold: checks and records the pass
  process.env.EXPECT_CACHED = "1";
  series.cached.push(timed(check(true)));
  delete process.env.EXPECT_CACHED;
}
const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, median(v)]));
const ms = (x) => `${Math.round(x)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const lines = [
  "# Type check cost in `kiln build` (bench/typecheck.mjs)",
  "",
  `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ")}, Node ${process.version}; median of ${RUNS} interleaved rounds, each a fresh node process.`,
  "Project: the `kiln init` TypeScript starter (zod inputs, @types/node), TypeScript " +
    execFileSync(join(project, "node_modules/.bin/tsc"), ["--version"], { encoding: "utf8" }).trim() +
    ".",
  "",
  "| step | median | vs the esbuild compile | vs `tsc --noEmit` |",
  "|---|---|---|---|",
  `| node process start (floor) | ${ms(m.node)} | ${ratio(m.node, m.compile)} | ${ratio(m.node, m.tsc)} |`,
  `| esbuild compile of predict.ts (every build does it) | ${ms(m.compile)} | 1.00× | ${ratio(m.compile, m.tsc)} |`,
  `| \`tsc --noEmit\` (the user's own check) | ${ms(m.tsc)} | ${ratio(m.tsc, m.compile)} | 1.00× |`,
  `| kiln type check, cold (no cache) | ${ms(m.cold)} | ${ratio(m.cold, m.compile)} | ${ratio(m.cold, m.tsc)} |`,
  `| kiln type check, cached (unchanged rebuild) | ${ms(m.cached)} | ${ratio(m.cached, m.compile)} | ${ratio(m.cached, m.tsc)} |`,
  "",
  `Added by the check to an unchanged rebuild: ${ms(m.cached - m.node)} over a bare node start ` +
    `(${ratio(m.cached - m.node, m.cold - m.node)} of the cold check's own time).`,
  "All runs (ms): " +
    Object.entries(series)
      .map(([k, v]) => `${k} ${v.map((x) => Math.round(x)).join(", ")}`)
      .join("; "),
  "",
];
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/typecheck.md"), lines.join("\n"));
console.log(lines.join("\n"));
