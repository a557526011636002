// Where the per-prediction CPU goes: runs the no-op TS and Python predictors behind the bundled server
// with `--cpu-prof` (server and node worker) and the Python worker under cProfile
// (bench/fixtures/profiled_kiln_worker.py), sends sync predictions at 1 connection, and prints the
// functions with the most self time per process (the raw material of bench/results/profile.md).
// cProfile instruments every call, so its milliseconds are inflated: read its shares and call counts.
// Usage: node bench/profile.mjs [--requests 20000] [--top 25] [--keep DIR]
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { runBenchmark } from "./lib.mjs";
import { bundleRuntime, compileFixture, pythonProject, root, startKiln, treeCpuMs } from "./server-lib.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const REQUESTS = Number(opt("requests", "20000"));
const TOP = Number(opt("top", "25"));
const KEEP = opt("keep", "");

const PYTHON_NOOP =
  'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    async def predict(self) -> str:\n        return "ok"\n';

/** Self time per function (name + line), in ms, from a .cpuprofile; also the total sampled time. */
function selfTimes(file) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    const ms = (prof.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const f = node.callFrame;
    const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  return { total, rows: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}

/** The top `TOP` functions by own time of a cProfile dump, as markdown rows (pstats does the reading). */
function pythonRows(python, file) {
  const script = [
    "import pstats, sys",
    "s = pstats.Stats(sys.argv[1])",
    "rows = sorted(s.stats.items(), key=lambda kv: -kv[1][2])",
    "total = sum(v[2] for _, v in rows) or 1",
    "print(f'{total * 1000:.0f}')",
    "for (path, line, fn), (cc, nc, tt, ct, _) in rows[:int(sys.argv[2])]:",
    "    where = f'{path.rsplit(\"/\", 1)[-1]}:{line}' if line else ''",
    "    print(f'| {tt * 1000:.0f} | {tt / total * 100:.1f} | {nc} | {fn} {where} |'.replace('<', '&lt;'))",
  ].join("\n");
  return execFileSync(python, ["-c", script, file, String(TOP)], { encoding: "utf8" })
    .trim()
    .split("\n");
}

async function profileOne(name, spec, dir) {
  mkdirSync(dir, { recursive: true });
  const env = {
    ...spec.env,
    KILN_NODE_WORKER: join(root, "bench/fixtures/profiled-worker.mjs"),
    KILN_PROFILE_WORKER: spec.workerEntry,
    KILN_PROFILE_DIR: dir,
  };
  if (spec.env.KILN_PYTHON_WORKER_DIR) {
    // The server runs <dir>/kiln_worker.py: here, the real one under cProfile.
    const wrapper = join(dir, "python-worker");
    mkdirSync(wrapper, { recursive: true });
    copyFileSync(join(root, "bench/fixtures/profiled_kiln_worker.py"), join(wrapper, "kiln_worker.py"));
    env.KILN_PROFILE_PYTHON_DIR = spec.env.KILN_PYTHON_WORKER_DIR;
    env.KILN_PYTHON_WORKER_DIR = wrapper;
  }
  const k = await startKiln({ ...spec, env, nodeFlags: ["--cpu-prof", "--cpu-prof-dir", dir] });
  const body = JSON.stringify({ input: {} });
  const run = (amount) =>
    autocannon({
      url: `${k.url}/predictions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      connections: 1,
      amount,
    });
  await run(2000); // warm-up: JIT, pools
  const cpu0 = treeCpuMs(k.pid);
  const r = await run(REQUESTS);
  const cpuPerReq = (treeCpuMs(k.pid) - cpu0) / r.requests.total;
  const serverPid = k.pid;
  await k.stop();
  await new Promise((res) => setTimeout(res, 500)); // the worker writes its profile as it exits
  console.log(
    `\n## ${name}: ${r.requests.total} predictions, ${cpuPerReq.toFixed(3)} ms CPU each (server+worker)`,
  );
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".pstats"))) {
    const [totalMs, ...rows] = pythonRows(spec.env.KILN_PYTHON, join(dir, f));
    console.log(
      `\n### Python worker (cProfile, pid ${f.split(".")[1]}): ${totalMs} ms of own time under the profiler`,
    );
    console.log("| own ms | % | calls | function |\n|---|---|---|---|");
    for (const row of rows) console.log(row);
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const pid = Number(f.split(".").at(-4));
    const { total, rows } = selfTimes(join(dir, f));
    const who = pid === serverPid ? "server" : "node worker";
    console.log(`\n### ${who} (pid ${pid}): ${total.toFixed(0)} ms sampled over the whole run`);
    console.log("| self ms | % | function |\n|---|---|---|");
    for (const [key, ms] of rows.slice(0, TOP))
      console.log(`| ${ms.toFixed(0)} | ${((ms / total) * 100).toFixed(1)} | ${key.replace(/\|/g, "\\|")} |`);
  }
}

async function main() {
  const work = KEEP || mkdtempSync(join(tmpdir(), "kiln-bench-profile-"));
  mkdirSync(work, { recursive: true });
  try {
    const runtime = await bundleRuntime(work);
    const noop = await compileFixture(work, "noop.ts");
    const py = pythonProject(work, "noop", PYTHON_NOOP);
    console.log(`load average ${loadavg()[0].toFixed(1)} at the start`);
    await profileOne(
      "TS no-op",
      { ...runtime, dir: noop.dir, predictor: `${noop.file}:predictor`, env: {} },
      join(work, "prof-ts"),
    );
    await profileOne(
      "Python no-op",
      { ...runtime, dir: py.dir, predictor: "predict.py:Predictor", env: py.env },
      join(work, "prof-python"),
    );
  } finally {
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
