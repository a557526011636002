// Memory and idle behaviour of the kiln server (bundled, as images run it) with a no-op TS and a no-op
// Python predictor, beside the ceilings measured in the same run (a bare node:http server, and for
// Python that plus an idle python3):
//   - idle memory of all server processes: summed RSS, private (anonymous) pages, and "charged" (private
//     pages plus each executable's file pages once, roughly what a container's memory cgroup counts),
//     1 s after READY and again once settled (after the idle-CPU window, when V8's memory reducer has
//     run);
//   - the same in the built images (docker run of a TS, a Python and an async Python no-op, read from
//     /proc of the container's processes), beside a bare node:http server and an idle python3 run in
//     the same images; needs the Docker engine and scripts/test-env.sh's base images (--no-image skips);
//   - growth over 30,000 sync predictions (1 connection) (after a 2,000 warm-up; bounded in time), with and without
//     `--max-semi-space-size=1` on the server (which passes it on to a node worker);
//   - idle CPU and wake-ups (context switches) of every server process over a quiet window, before
//     and after the load.
// Writes bench/results/memory.md.
// Usage: node bench/memory.mjs [--predictions 30000] [--idle 10] [--max-seconds 180] [--no-image]
import autocannon from "autocannon";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  benchRunArgs,
  buildDist,
  cmdlineOf,
  containerPids,
  descendantsOf,
  freePort,
  kilnBuild,
  loadNote,
  option,
  PYTHON_NOOP,
  removeBenchImage,
  treeMemoryMb,
  writeResults,
} from "./lib.mjs";
import {
  bundleRuntime,
  compileFixture,
  pythonProject,
  readyFromLog,
  root,
  startBare,
  startKiln,
  track,
} from "./server-lib.mjs";

const PREDICTIONS = Number(option("predictions", "30000"));
const IDLE_S = Number(option("idle", "10"));
const MAX_S = Number(option("max-seconds", "180"));
const SEMI = "--max-semi-space-size=1";
const WITH_IMAGE = !process.argv.includes("--no-image");
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const PREFIX = process.env.KILN_BENCH_IMAGE_PREFIX ?? "kiln-bench-";
const run = promisify(execFile);
const PYTHON_ASYNC_NOOP = PYTHON_NOOP.replace("def predict", "async def predict");
const TS_NOOP =
  'import { definePredictor, z } from "kiln-ml";\n\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "ok" });\n';

const work = mkdtempSync(join(tmpdir(), "kiln-bench-memory-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const tree = (pid) => [pid, ...descendantsOf(pid)];

/**
 * CPU ns (schedstat) and context switches of one process, summed over its threads (a TS predictor's
 * worker thread, V8's and libuv's helpers): /proc/PID/schedstat alone is the main thread's.
 */
function sched(pid) {
  let ns = 0;
  let switches = 0;
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { ns, switches };
  }
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const sw = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      switches += sw("voluntary_ctxt_switches") + sw("nonvoluntary_ctxt_switches");
    } catch {
      // the thread ended meanwhile
    }
  }
  return { ns, switches };
}

/** CPU (% of a core) and wake-ups per second of every process of the tree over `seconds` of quiet. */
async function idle(pid, seconds) {
  const pids = tree(pid);
  const before = pids.map(sched);
  await sleep(seconds * 1000);
  const after = pids.map(sched);
  const ns = after.reduce((a, s, i) => a + s.ns - before[i].ns, 0);
  const switches = after.reduce((a, s, i) => a + s.switches - before[i].switches, 0);
  return { cpu: (ns / 1e9 / seconds) * 100, wakeups: switches / seconds };
}

/** An idle python3 (the interpreter's own floor for the Python worker). */
async function idlePython(python) {
  const child = track(
    spawn(python, ["-c", "import sys; print('up', flush=True); sys.stdin.read()"], {
      stdio: ["pipe", "pipe", "ignore"],
    }),
  );
  await new Promise((r) => child.stdout.once("data", r));
  return {
    pid: child.pid,
    stop: () => {
      child.kill();
      return new Promise((r) => child.once("exit", r));
    },
  };
}

/** `total` sync predictions on 1 connection (the no-op runs one at a time) in batches, stopping early after MAX_S seconds. */
async function predictions(url, total) {
  const t0 = performance.now();
  let done = 0;
  let errors = 0;
  while (done < total && performance.now() - t0 < MAX_S * 1000) {
    const r = await autocannon({
      url: `${url}/predictions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: {} }),
      connections: 1,
      amount: Math.min(5_000, total - done),
    });
    done += r.requests.total;
    errors += r.errors + r.non2xx;
  }
  return { done, errors, seconds: (performance.now() - t0) / 1000 };
}

async function measure(label, spec) {
  const k = await startKiln({ ...spec, readyBy: "log" });
  try {
    await sleep(1000);
    const idleMem = treeMemoryMb(tree(k.pid));
    const idleBefore = await idle(k.pid, IDLE_S);
    const settled = treeMemoryMb(tree(k.pid));
    await predictions(k.url, 2_000);
    await sleep(500);
    const warm = treeMemoryMb(tree(k.pid));
    const pids = tree(k.pid);
    const ns0 = pids.reduce((a, p) => a + sched(p).ns, 0);
    const first = await predictions(k.url, PREDICTIONS / 2);
    const mid = treeMemoryMb(tree(k.pid));
    const second = await predictions(k.url, PREDICTIONS / 2);
    const load = {
      done: first.done + second.done,
      errors: first.errors + second.errors,
      seconds: first.seconds + second.seconds,
    };
    load.cpuMsPer = (pids.reduce((a, p) => a + sched(p).ns, 0) - ns0) / 1e6 / Math.max(1, load.done);
    await sleep(1000);
    const after = treeMemoryMb(tree(k.pid));
    const idleAfter = await idle(k.pid, IDLE_S);
    console.log(label, JSON.stringify({ idleMem, settled, warm, mid, after, load, idleBefore, idleAfter }));
    return { label, idleMem, settled, warm, mid, after, load, idleBefore, idleAfter };
  } finally {
    await k.stop();
  }
}

const f = (n, d = 1) => n.toFixed(d);

/** A kiln project (cog.yaml + predictor) for `kiln build`, on the test environment's base images. */
function imageProject(name, kind, source) {
  const dir = join(work, `image-${name}`);
  mkdirSync(dir, { recursive: true });
  const ts = kind === "ts";
  writeFileSync(join(dir, ts ? "predict.ts" : "predict.py"), source);
  writeFileSync(
    join(dir, "cog.yaml"),
    ts
      ? 'build:\n  node_version: 20\n  base_image: kiln-test/node\npredict: "predict.ts:predictor"\n'
      : 'build:\n  python_version: "3.11"\n  base_image: kiln-test/python\npredict: "predict.py:Predictor"\n',
  );
  return dir;
}

/** Builds the project in `dir` with kiln: the image's name. */
async function buildImage(dir, name, images) {
  const tag = await kilnBuild(root, dir, `${PREFIX}memory-${name}:${process.pid}`);
  images.push(tag);
  return tag;
}

/**
 * Runs `args(port)` in `image` (host network, PORT set, `runArgs` for docker run) until `ready` resolves;
 * measures its processes 1 s later and again after IDLE_S more seconds; removes the container.
 */
async function inContainer(image, args, ready, runArgs = []) {
  const port = await freePort();
  const name = `${PREFIX}memory-${process.pid}-${port}`;
  const t0 = performance.now();
  const child = track(
    spawn(DOCKER, benchRunArgs(name, port, image, args(port), runArgs), {
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  try {
    await ready(`http://127.0.0.1:${port}`, child, t0);
    await sleep(1000);
    const pids = containerPids(name, DOCKER);
    const first = treeMemoryMb(pids);
    const per = pids.map((p) => ({ cmd: cmdlineOf(p), ...treeMemoryMb([p]) }));
    await sleep(IDLE_S * 1000);
    const settled = treeMemoryMb(containerPids(name, DOCKER));
    return { first, settled, per };
  } finally {
    await run(DOCKER, ["rm", "-f", name]).catch(() => undefined);
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
}

const lineOnStdout = (child) => new Promise((r) => child.stdout.once("data", r));
const kilnReady = (url, child, t0) => readyFromLog(url, child, child.stdout, t0, 60_000);

/** The image rows: kiln's server in its images, and the ceilings measured in the same images. */
async function imageRows() {
  const images = [];
  try {
    await buildDist(root);
    const ts = await buildImage(imageProject("ts", "ts", TS_NOOP), "ts", images);
    const py = await buildImage(imageProject("py", "python", PYTHON_NOOP), "py", images);
    const pyAsync = await buildImage(
      imageProject("py-async", "python", PYTHON_ASYNC_NOOP),
      "py-async",
      images,
    );
    const server = ["node", SEMI, "/kiln/server.mjs", "--host", "127.0.0.1"];
    // The same file as the ceiling on this machine, mounted read-only.
    const fixtures = ["-v", `${join(root, "bench/fixtures")}:/kiln-bench:ro`];
    const bare = (port) => ["node", "/kiln-bench/bare-server.mjs", String(port)];
    const pyIdle = () => ["python3", "-c", "import time; print('up', flush=True); time.sleep(3600)"];
    const bareTs = await inContainer(ts, bare, (_u, child) => lineOnStdout(child), fixtures);
    const barePy = await inContainer(py, bare, (_u, child) => lineOnStdout(child), fixtures);
    const python = await inContainer(py, pyIdle, (_u, child) => lineOnStdout(child));
    return {
      bareTs,
      barePy,
      python,
      kiln: [
        {
          label: "TS no-op (worker thread)",
          ceiling: bareTs.settled.rss * 2,
          what: "2 × bare node:http",
          goal: "≤ 80",
          ...(await inContainer(ts, () => server, kilnReady)),
        },
        {
          label: "Python no-op, `def`",
          ceiling: barePy.settled.rss + python.settled.rss,
          what: "bare node:http + idle python3",
          goal: "≤ 60",
          ...(await inContainer(py, () => server, kilnReady)),
        },
        {
          label: "Python no-op, `async def`",
          ceiling: barePy.settled.rss + python.settled.rss,
          what: "bare node:http + idle python3",
          goal: "≤ 60",
          ...(await inContainer(pyAsync, () => server, kilnReady)),
        },
      ],
    };
  } finally {
    for (const image of images) removeBenchImage(image, DOCKER);
  }
}

async function main() {
  const note = [`before: ${loadNote()}`];
  const runtime = await bundleRuntime(work);
  const ts = await compileFixture(work, "noop.ts");
  const py = pythonProject(work, "noop", PYTHON_NOOP);
  const tsSpec = { ...runtime, dir: ts.dir, predictor: `${ts.file}:predictor` };
  const pySpec = { ...runtime, dir: py.dir, predictor: "predict.py:Predictor", env: py.env };
  const pyAsync = pythonProject(work, "noop-async", PYTHON_ASYNC_NOOP);
  const pyAsyncSpec = { ...runtime, dir: pyAsync.dir, predictor: "predict.py:Predictor", env: pyAsync.env };

  const bare = await startBare();
  await sleep(1000);
  const bareMem = treeMemoryMb([bare.pid]);
  const bareIdle = await idle(bare.pid, IDLE_S);
  const pyIdle = await idlePython(py.env.KILN_PYTHON);
  const pyFloor = treeMemoryMb([pyIdle.pid]);
  await pyIdle.stop();
  await bare.stop();

  // kiln's default: the image runs `node --max-semi-space-size=1 /kiln/server.mjs` and a node worker
  // gets the same; V8's own default young generation (16 MB semi-spaces) is the comparison.
  const V8 = "--max-semi-space-size=16";
  const SMALL = "--optimize-for-size";
  // A TS predictor runs in a worker thread of the server by default; KILN_NODE_WORKER_MODE=process
  // gives it a node process of its own (the isolation of before): both are measured.
  const tsProcess = { ...tsSpec, env: { KILN_NODE_WORKER_MODE: "process" } };
  const runs = [
    await measure(`TS thread, ${SEMI} (kiln's default)`, { ...tsSpec, nodeFlags: [SEMI] }),
    await measure(`TS process, ${SEMI} (KILN_NODE_WORKER_MODE=process)`, { ...tsProcess, nodeFlags: [SEMI] }),
    await measure(`TS thread, ${V8} (V8's default)`, { ...tsSpec, nodeFlags: [V8] }),
    await measure(`TS thread, ${SEMI} ${SMALL}`, { ...tsSpec, nodeFlags: [SEMI, SMALL] }),
    await measure(`Python, ${V8} (V8's default)`, { ...pySpec, nodeFlags: [V8] }),
    await measure(`Python, ${SEMI} (kiln's default)`, { ...pySpec, nodeFlags: [SEMI] }),
    await measure(`Python async def, ${SEMI} (kiln's default)`, { ...pyAsyncSpec, nodeFlags: [SEMI] }),
  ];
  const image = WITH_IMAGE ? await imageRows() : null;
  note.push(`after: ${loadNote()}`);

  const ceilingFor = (label) =>
    label.startsWith("TS")
      ? { rss: bareMem.rss * 2, charged: bareMem.charged + bareMem.anon, what: "2 × bare node:http" }
      : {
          rss: bareMem.rss + pyFloor.rss,
          charged: bareMem.charged + pyFloor.charged,
          what: "bare node:http + idle python3",
        };
  const md = [
    "# Memory and idle behaviour",
    "",
    `Generated by \`node bench/memory.mjs --predictions ${PREDICTIONS} --idle ${IDLE_S}${WITH_IMAGE ? "" : " --no-image"}\` on ${new Date().toISOString()}.`,
    "",
    `Machine: ${note.join("; ")}.`,
    "",
    "All server processes are counted (the server and its worker). *RSS* sums each process's resident",
    "set, so the pages of the node binary that server and node worker share count twice; *charged* counts",
    "private pages plus each executable's file pages once (what the pair costs the machine, and roughly",
    "what a container's memory cgroup sees); *anon* is the private pages alone. MB = MiB.",
    "",
    "## Idle memory",
    "",
    "On this machine (the runtime bundled from this checkout, run by this machine's node and python3).",
    `"1 s" is 1 s after READY; "settled" is after the ${IDLE_S} s idle-CPU window that follows, once V8's`,
    "memory reducer (which starts ~8 s after start-up) has collected what the start left behind.",
    "",
    "| server | RSS 1 s | RSS settled | charged settled | anon settled | ceiling (RSS / charged) | goal (RSS) |",
    "|---|---|---|---|---|---|---|",
    `| bare node:http (ceiling) | ${f(bareMem.rss)} | | ${f(bareMem.charged)} | ${f(bareMem.anon)} | | |`,
    `| idle python3 (floor of a Python worker) | ${f(pyFloor.rss)} | | ${f(pyFloor.charged)} | ${f(pyFloor.anon)} | | |`,
    ...runs.map((r) => {
      const c = ceilingFor(r.label);
      const goal = r.label.startsWith("TS") ? "≤ 80" : "≤ 60";
      return `| kiln, ${r.label} | ${f(r.idleMem.rss)} | ${f(r.settled.rss)} | ${f(r.settled.charged)} | ${f(r.settled.anon)} | ${f(c.rss)} / ${f(c.charged)} (${c.what}) | ${goal} |`;
    }),
    "",
    ...(image
      ? [
          "## Idle memory in the images",
          "",
          "`docker run` of images built by `kiln build` (base images from scripts/test-env.sh: Debian's",
          "python3, node 20), with the image's own command; the container's processes but its init (tini)",
          "are read from /proc on the host. The ceilings run in the same images.",
          "",
          "| in the image | RSS 1 s | RSS settled | anon settled | per process at 1 s (RSS / anon) | ceiling (RSS) | goal (RSS) |",
          "|---|---|---|---|---|---|---|",
          `| bare node:http (TS image) | ${f(image.bareTs.first.rss)} | ${f(image.bareTs.settled.rss)} | ${f(image.bareTs.settled.anon)} | | | |`,
          `| bare node:http (Python image) | ${f(image.barePy.first.rss)} | ${f(image.barePy.settled.rss)} | ${f(image.barePy.settled.anon)} | | | |`,
          `| idle python3 (Python image) | ${f(image.python.first.rss)} | ${f(image.python.settled.rss)} | ${f(image.python.settled.anon)} | | | |`,
          ...image.kiln.map(
            (r) =>
              `| kiln, ${r.label} | ${f(r.first.rss)} | ${f(r.settled.rss)} | ${f(r.settled.anon)} | ${r.per.map((p) => `${p.cmd.split(" ")[0]} ${f(p.rss)} / ${f(p.anon)}`).join("; ")} | ${f(r.ceiling)} (${r.what}) | ${r.goal} |`,
          ),
          "",
        ]
      : []),
    `## Growth over ${PREDICTIONS.toLocaleString("en")} sync predictions`,
    "",
    "Container API (`POST /predictions`, 1 connection), which retains no finished predictions, so the",
    "retention budget (KILN_RETAIN_BYTES, /v1 only) is 0 here and the goal is ≤ 5 MB. Measured after a",
    "2,000-prediction warm-up and 1 s of quiet.",
    "",
    "A node worker runs one full collection 0.5 s after its predictions stop (src/runtime/workers/node/",
    "idle-gc.ts). Without it a worker thread's heap grew from 13 to 30 MB over 30,000 predictions while",
    "its live objects stayed at 8 MB (v8.getHeapStatistics before and after a forced collection, every",
    "5,000): short-lived objects V8 had promoted and left for a later collection, not a leak.",
    "",
    "| server | predictions (errors) | seconds | server CPU per prediction | RSS warm → half-way → after | growth RSS (second half) | growth charged | growth anon |",
    "|---|---|---|---|---|---|---|---|",
    ...runs.map(
      (r) =>
        `| kiln, ${r.label} | ${r.load.done} (${r.load.errors}) | ${f(r.load.seconds)} | ${f(r.load.cpuMsPer, 3)} ms | ${f(r.warm.rss)} → ${f(r.mid.rss)} → ${f(r.after.rss)} | ${f(r.after.rss - r.warm.rss)} (${f(r.after.rss - r.mid.rss)}) | ${f(r.after.charged - r.warm.charged)} | ${f(r.after.anon - r.warm.anon)} |`,
    ),
    "",
    `## Idle CPU (${IDLE_S} s of quiet, every server process)`,
    "",
    '"Before load" starts 1 s after READY, while V8 still finishes start-up work (lazy compilation,',
    'its memory reducer\'s GCs); "after load" is the steady idle state.',
    "",
    "| server | CPU before load | wake-ups/s before | CPU after load | wake-ups/s after |",
    "|---|---|---|---|---|",
    `| bare node:http (ceiling) | ${f(bareIdle.cpu, 3)} % | ${f(bareIdle.wakeups)} | | |`,
    ...runs.map(
      (r) =>
        `| kiln, ${r.label} | ${f(r.idleBefore.cpu, 3)} % | ${f(r.idleBefore.wakeups)} | ${f(r.idleAfter.cpu, 3)} % | ${f(r.idleAfter.wakeups)} |`,
    ),
    "",
  ];
  writeResults(root, "memory", md);
}

await main();
