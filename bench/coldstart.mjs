// Cold start: process start to READY for a no-op TS and a no-op Python predictor, with the ceilings
// measured in the same rounds (rounds interleaved, so a busy machine slows all alike):
//   - `node -e 0` (spawn to exit) and a bare node:http server (spawn to listening);
//   - the kiln server bundle (as images run it) to its `ready` log line, confirmed by /health-check;
//   - `kiln serve --no-docker` on a project whose compile is cached, to "Model ready" (plus the first,
//     compiling run, and a check that no esbuild process is left running);
//   - in the image: `docker run` of the model to READY, beside `docker run` of the same image with a
//     no-op command (container start alone), and the server's own process start to READY in there.
// Needs the Docker engine and scripts/test-env.sh's base images for the image rows (--no-image skips).
// Writes bench/results/coldstart.md.
// With --baseline REF (e.g. main) the same rounds also start that git revision's bundled server
// (READY by polling /health-check: older servers log no ready line) and its `kiln serve --no-docker`.
// Usage: node bench/coldstart.mjs [--rounds 7] [--no-image] [--baseline REF]
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  benchRunArgs,
  buildDist,
  cmdlineOf,
  containerPids,
  descendantsOf,
  exportRevision,
  freePort,
  kilnBuild,
  loadNote,
  median,
  option,
  PYTHON_NOOP,
  removeBenchImage,
  spread,
  writeResults,
} from "./lib.mjs";
import {
  bundleRuntime,
  compileFixture,
  processCpuMs,
  pythonProject,
  readyFromLog,
  root,
  startKiln,
  track,
  treeCpuMs,
} from "./server-lib.mjs";

const argv = process.argv.slice(2);
const ROUNDS = Number(option("rounds", "7"));
const WITH_IMAGE = !argv.includes("--no-image");
const BASELINE = option("baseline", undefined);
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const PREFIX = process.env.KILN_BENCH_IMAGE_PREFIX ?? "kiln-bench-";
const run = promisify(execFile);
// A machine-wide NODE_EXTRA_CA_CERTS makes every node process parse that bundle as it starts (~40 ms of
// CPU per process here): it is unset for every row alike, ceilings included, and the result says so.
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;

const TS_NOOP =
  'import { definePredictor, z } from "kiln-ml";\n\nexport const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => "ok" });\n';

const TS_COG_YAML =
  'build:\n  node_version: 20\n  base_image: kiln-test/node\npredict: "predict.ts:predictor"\n';

const work = mkdtempSync(join(tmpdir(), "kiln-bench-coldstart-"));
const images = [];
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** Spawn to exit of `cmd args`, in ms. */
function timeExit(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve(performance.now() - t0));
  });
}

/** Spawn of the bare node:http server to its first stdout line (listening): { ms, cpuMs }. */
async function bareHttpStart() {
  const port = await freePort();
  const t0 = performance.now();
  const child = track(
    spawn(process.execPath, [join(root, "bench/fixtures/bare-server.mjs"), String(port)], {
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  await new Promise((r) => child.stdout.once("data", r));
  const ms = performance.now() - t0;
  const cpuMs = processCpuMs(child.pid);
  child.kill();
  await new Promise((r) => child.once("exit", r));
  return { ms, cpuMs };
}

/** A project directory with cog.yaml for `kiln serve --no-docker` / `kiln build`. */
function project(name, kind) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  if (kind === "ts") {
    writeFileSync(join(dir, "predict.ts"), TS_NOOP);
    writeFileSync(join(dir, "cog.yaml"), TS_COG_YAML);
  } else {
    writeFileSync(join(dir, "predict.py"), PYTHON_NOOP);
    writeFileSync(
      join(dir, "cog.yaml"),
      'build:\n  python_version: "3.11"\n  base_image: kiln-test/python\npredict: "predict.py:Predictor"\n',
    );
  }
  return dir;
}

/**
 * `kiln serve --no-docker --debug` in `dir` to its "Model ready" line: { readyMs, cpuMs, steps,
 * esbuildLeft }. The server runs inside the CLI process (a TS worker is a thread of it, a Python worker
 * its child): cpuMs is the CPU time of both up to READY, which a busy machine does not inflate; steps
 * is the CLI's own --debug timings line.
 */
async function serveNoDocker(dir, python, repo = root) {
  const t0 = performance.now();
  const child = track(
    spawn(
      process.execPath,
      // -p 0: the server picks a free port itself (a port chosen here could be taken meanwhile).
      [join(repo, "bin/kiln.js"), "serve", "--no-docker", "-p", "0", "--python", python, "--debug"],
      { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] },
    ),
  );
  let err = "";
  await new Promise((resolve, reject) => {
    child.stderr.setEncoding("utf8");
    const onData = (d) => {
      err += d;
      if (err.includes("Model ready")) {
        child.stderr.off("data", onData);
        child.stderr.resume();
        resolve();
      }
    };
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`kiln serve exited with ${code}:\n${err}`)));
  });
  const readyMs = performance.now() - t0;
  const cpuMs = treeCpuMs(child.pid);
  const line = /timings \(ms\): (\{.*\})/.exec(err);
  const steps = line ? JSON.parse(line[1]) : undefined; // a --baseline revision may print none
  const tree = descendantsOf(child.pid);
  const esbuildLeft = tree.filter((p) => cmdlineOf(p).includes("esbuild")).length;
  child.kill("SIGINT");
  await new Promise((r) => child.once("exit", r));
  return { readyMs, cpuMs, steps, esbuildLeft };
}

/** Builds `dir` into an image with kiln (quietly): its name. */
async function buildImage(dir, name) {
  const tag = await kilnBuild(root, dir, `${PREFIX}coldstart-${name}:${process.pid}`);
  images.push(tag);
  return tag;
}

/**
 * `docker run` of the model image to READY (its ready line): wall, the server's own figure, and the
 * CPU its processes used (server + worker).
 */
async function imageReady(image) {
  const port = await freePort();
  const name = `${PREFIX}coldstart-${process.pid}-${port}`;
  const t0 = performance.now();
  const child = track(
    spawn(DOCKER, benchRunArgs(name, port, image, ["node", "/kiln/server.mjs", "--host", "127.0.0.1"]), {
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  try {
    const ready = await readyFromLog(`http://127.0.0.1:${port}`, child, child.stdout, t0, 60_000);
    return { ...ready, cpuMs: containerPids(name, DOCKER).reduce((a, p) => a + processCpuMs(p), 0) };
  } finally {
    await run(DOCKER, ["rm", "-f", name]).catch(() => undefined);
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
}

/** Where `kiln serve --no-docker` spends its start: the median of each --debug step, in ms. */
function stepsTable(runs) {
  const keys = ["boot", "manifest", "compile", "worker", "listen", "ready", "total", "cpu"];
  const present = runs.filter(([, steps]) => steps.length > 0 && steps.every(Boolean));
  if (present.length === 0) return [];
  return [
    "`kiln serve --no-docker` steps, from its `--debug` timings line (median ms of the rounds; each step",
    "since the previous one: boot = node and the CLI's modules, manifest = cog.yaml found and checked or its",
    "cached check reused, compile = the compile cache's check, worker = spawned, listen = the server's",
    "port open, ready = the worker's boot, the predictor's import and setup(); cpu = the CLI process's",
    "CPU time up to READY, its worker thread included, a python3 worker not):",
    "",
    `| run | ${keys.join(" | ")} |`,
    `|---|${keys.map(() => "---").join("|")}|`,
    ...present.map(
      ([what, steps]) => `| ${what} | ${keys.map((k) => median(steps.map((x) => x[k] ?? 0))).join(" | ")} |`,
    ),
    "",
  ];
}

async function main() {
  const note = [`before: ${loadNote()}`];
  await buildDist(root);
  const runtime = await bundleRuntime(work);
  const ts = await compileFixture(work, "noop.ts");
  const py = pythonProject(work, "noop", PYTHON_NOOP);
  const python = py.env.KILN_PYTHON;
  const tsProject = project("serve-ts", "ts");
  const pyProject = project("serve-py", "python");
  const base = BASELINE ? await exportRevision(root, BASELINE) : undefined;
  const baseRuntime = base && {
    serverEntry: join(base, "dist/runtime-bundle/server.mjs"),
    workerEntry: join(base, "dist/runtime-bundle/node-worker.mjs"),
  };
  const baseTsProject = base && project("base-serve-ts", "ts");
  // A baseline whose server logs its ready line is timed by it, as this checkout is; older ones by polling.
  const baseReadyBy =
    base && existsSync(join(base, "src/runtime/ready-file.ts"))
      ? readFileSync(join(base, "src/runtime/ready-file.ts"), "utf8").includes("READY_LOG_MESSAGE")
        ? "log"
        : "poll"
      : "poll";
  if (base) await serveNoDocker(baseTsProject, python, base); // its first, compiling run

  // The first --no-docker run of the TS project compiles it (esbuild); later runs reuse the bundle.
  const firstCompile = await serveNoDocker(tsProject, python);
  const editedProject = project("serve-ts-edited", "ts");
  await serveNoDocker(editedProject, python); // its compile
  let tsImage;
  let pyImage;
  if (WITH_IMAGE) {
    tsImage = await buildImage(project("image-ts", "ts"), "ts");
    pyImage = await buildImage(project("image-py", "python"), "py");
  }

  const s = {
    nodeExit: [],
    pythonExit: [],
    bareHttp: [],
    bareHttpCpu: [],
    ts: [],
    tsSince: [],
    tsCpu: [],
    py: [],
    pySince: [],
    pyCpu: [],
    serveTs: [],
    servePy: [],
    serveEdited: [],
    serveTsCpu: [],
    servePyCpu: [],
    serveEditedCpu: [],
    serveTsSteps: [],
    servePySteps: [],
    serveEditedSteps: [],
    dockerNoop: [],
    imageTs: [],
    imageTsSince: [],
    imageTsCpu: [],
    imagePy: [],
    imagePySince: [],
    imagePyCpu: [],
    baseTs: [],
    baseTsCpu: [],
    basePy: [],
    basePyCpu: [],
    baseServeTs: [],
    baseServePy: [],
    baseServeTsCpu: [],
    baseServePyCpu: [],
  };
  let esbuildLeft = firstCompile.esbuildLeft;
  for (let i = 0; i < ROUNDS; i++) {
    s.nodeExit.push(await timeExit(process.execPath, ["-e", "0"]));
    s.pythonExit.push(await timeExit(python, ["-c", "pass"]));
    const bare = await bareHttpStart();
    s.bareHttp.push(bare.ms);
    s.bareHttpCpu.push(bare.cpuMs);
    const k = await startKiln({ ...runtime, dir: ts.dir, predictor: `${ts.file}:predictor`, readyBy: "log" });
    s.ts.push(k.readyMs);
    s.tsSince.push(k.sinceStartMs);
    s.tsCpu.push(k.readyCpuMs);
    await k.stop();
    const p = await startKiln({
      ...runtime,
      dir: py.dir,
      predictor: "predict.py:Predictor",
      env: py.env,
      readyBy: "log",
    });
    s.py.push(p.readyMs);
    s.pySince.push(p.sinceStartMs);
    s.pyCpu.push(p.readyCpuMs);
    await p.stop();
    const st = await serveNoDocker(tsProject, python);
    s.serveTs.push(st.readyMs);
    s.serveTsCpu.push(st.cpuMs);
    s.serveTsSteps.push(st.steps);
    esbuildLeft += st.esbuildLeft;
    const sp = await serveNoDocker(pyProject, python);
    s.servePy.push(sp.readyMs);
    s.servePyCpu.push(sp.cpuMs);
    s.servePySteps.push(sp.steps);
    // cog.yaml edited (a new comment each round): its cached check no longer applies, the compile cache does.
    writeFileSync(join(editedProject, "cog.yaml"), `# round ${i}\n${TS_COG_YAML}`);
    const se = await serveNoDocker(editedProject, python);
    s.serveEdited.push(se.readyMs);
    s.serveEditedCpu.push(se.cpuMs);
    s.serveEditedSteps.push(se.steps);
    if (base) {
      const bt = await startKiln({
        ...baseRuntime,
        dir: ts.dir,
        predictor: `${ts.file}:predictor`,
        readyBy: baseReadyBy,
      });
      s.baseTs.push(bt.readyMs);
      s.baseTsCpu.push(bt.readyCpuMs);
      await bt.stop();
      const bp = await startKiln({
        ...baseRuntime,
        dir: py.dir,
        predictor: "predict.py:Predictor",
        env: { ...py.env, KILN_PYTHON_WORKER_DIR: join(base, "dist/runtime-bundle/python") },
        readyBy: baseReadyBy,
      });
      s.basePy.push(bp.readyMs);
      s.basePyCpu.push(bp.readyCpuMs);
      await bp.stop();
      const bst = await serveNoDocker(baseTsProject, python, base);
      s.baseServeTs.push(bst.readyMs);
      s.baseServeTsCpu.push(bst.cpuMs);
      const bsp = await serveNoDocker(pyProject, python, base);
      s.baseServePy.push(bsp.readyMs);
      s.baseServePyCpu.push(bsp.cpuMs);
    }
    if (WITH_IMAGE) {
      const t0 = performance.now();
      await run(DOCKER, ["run", "--rm", "--label", "kiln.bench=1", "--network", "host", tsImage, "true"]);
      s.dockerNoop.push(performance.now() - t0);
      const it = await imageReady(tsImage);
      s.imageTs.push(it.readyMs);
      s.imageTsSince.push(it.sinceStartMs);
      s.imageTsCpu.push(it.cpuMs);
      const ip = await imageReady(pyImage);
      s.imagePy.push(ip.readyMs);
      s.imagePySince.push(ip.sinceStartMs);
      s.imagePyCpu.push(ip.cpuMs);
    }
  }
  note.push(`after: ${loadNote()}`);

  const ratio = (xs, ys) => (median(xs) / median(ys)).toFixed(1);
  const cpuVsBare = (xs) => `bare http + ${Math.round(median(xs) - median(s.bareHttpCpu))} ms`;
  const rows = [
    ["ceiling: `node -e 0`, spawn to exit", spread(s.nodeExit), "", ""],
    ["ceiling: `python3 -c pass`, spawn to exit", spread(s.pythonExit), "", ""],
    ["ceiling: bare node:http server, spawn to listening", spread(s.bareHttp), "", ""],
    ["… its CPU to listening (10 ms ticks)", spread(s.bareHttpCpu), "", ""],
    [
      "kiln server (bundle), TS no-op: spawn to READY",
      spread(s.ts),
      `${ratio(s.ts, s.bareHttp)}× bare http`,
      "≤ 250 ms",
    ],
    ["… the server's own figure (process start to READY)", spread(s.tsSince), "", ""],
    [
      "… CPU ms to READY (server process, all threads)",
      spread(s.tsCpu),
      `${ratio(s.tsCpu, s.bareHttpCpu)}× bare http's CPU to listening (${spread(s.bareHttpCpu)})`,
      "",
    ],
    [
      "kiln server (bundle), Python no-op: spawn to READY",
      spread(s.py),
      `${ratio(s.py, s.bareHttp)}× bare http`,
      "≤ 300 ms",
    ],
    ["… the server's own figure", spread(s.pySince), "", ""],
    [
      "… CPU ms to READY (server + Python worker)",
      spread(s.pyCpu),
      `${ratio(s.pyCpu, s.bareHttpCpu)}× bare http's CPU to listening`,
      "",
    ],
    [
      '`kiln serve --no-docker`, TS, compile cached: spawn to "Model ready"',
      spread(s.serveTs),
      `${ratio(s.serveTs, s.bareHttp)}× bare http`,
      "≤ 250 ms",
    ],
    [
      "… CPU of the CLI process (its worker thread included) to READY",
      spread(s.serveTsCpu),
      cpuVsBare(s.serveTsCpu),
      "",
    ],
    [
      '`kiln serve --no-docker`, Python: spawn to "Model ready"',
      spread(s.servePy),
      `${ratio(s.servePy, s.bareHttp)}× bare http`,
      "≤ 300 ms",
    ],
    [
      "… CPU of the CLI process and its python3 worker to READY",
      spread(s.servePyCpu),
      cpuVsBare(s.servePyCpu),
      "",
    ],
    [
      "`kiln serve --no-docker`, TS, cog.yaml edited (checked again), compile cached",
      spread(s.serveEdited),
      `${ratio(s.serveEdited, s.bareHttp)}× bare http`,
      "",
    ],
    ["… CPU to READY", spread(s.serveEditedCpu), cpuVsBare(s.serveEditedCpu), ""],
    ["`kiln serve --no-docker`, TS, first run (compiles)", `${Math.round(firstCompile.readyMs)}`, "", ""],
  ];
  if (base) {
    const vs = (xs, ys) => `${ratio(xs, ys)}× ${BASELINE}`;
    rows.push(
      [
        `${BASELINE}: server (bundle), TS no-op (READY ${baseReadyBy === "log" ? "by its log line" : "polled"})`,
        spread(s.baseTs),
        `this: ${vs(s.ts, s.baseTs)}`,
        "",
      ],
      [
        `${BASELINE}: server (bundle), Python no-op (READY ${baseReadyBy === "log" ? "by its log line" : "polled"})`,
        spread(s.basePy),
        `this: ${vs(s.py, s.basePy)}`,
        "",
      ],
      [`… ${BASELINE}'s CPU ms to READY (TS)`, spread(s.baseTsCpu), `this: ${vs(s.tsCpu, s.baseTsCpu)}`, ""],
      [
        `… ${BASELINE}'s CPU ms to READY (Python)`,
        spread(s.basePyCpu),
        `this: ${vs(s.pyCpu, s.basePyCpu)}`,
        "",
      ],
      [
        `${BASELINE}: \`kiln serve --no-docker\`, TS`,
        spread(s.baseServeTs),
        `this: ${vs(s.serveTs, s.baseServeTs)}`,
        "",
      ],
      ["… its CPU to READY", spread(s.baseServeTsCpu), `this: ${vs(s.serveTsCpu, s.baseServeTsCpu)}`, ""],
      [
        `${BASELINE}: \`kiln serve --no-docker\`, Python`,
        spread(s.baseServePy),
        `this: ${vs(s.servePy, s.baseServePy)}`,
        "",
      ],
      ["… its CPU to READY", spread(s.baseServePyCpu), `this: ${vs(s.servePyCpu, s.baseServePyCpu)}`, ""],
    );
  }
  if (WITH_IMAGE) {
    rows.push(
      ["ceiling: `docker run --rm IMAGE true` (container start alone)", spread(s.dockerNoop), "", ""],
      [
        "image, TS: `docker run` to READY",
        spread(s.imageTs),
        `container start + ${Math.round(median(s.imageTs) - median(s.dockerNoop))} ms`,
        "",
      ],
      ["… the server's own figure in the container", spread(s.imageTsSince), "", "≤ 250 ms"],
      ["… CPU ms to READY in the container (server, all threads)", spread(s.imageTsCpu), "", ""],
      [
        "image, Python: `docker run` to READY",
        spread(s.imagePy),
        `container start + ${Math.round(median(s.imagePy) - median(s.dockerNoop))} ms`,
        "",
      ],
      ["… the server's own figure in the container", spread(s.imagePySince), "", "≤ 300 ms"],
      ["… CPU ms to READY in the container (server + Python worker)", spread(s.imagePyCpu), "", ""],
    );
  }
  const md = [
    "# Cold start: process start to READY",
    "",
    `Generated by \`node bench/coldstart.mjs --rounds ${ROUNDS}${WITH_IMAGE ? "" : " --no-image"}${BASELINE ? ` --baseline ${BASELINE}` : ""}\` on ${new Date().toISOString()}.`,
    "",
    `Machine: ${note.join("; ")}. Rounds are interleaved (every row once per round), so load slows all`,
    "rows alike; compare rows with their ceilings from the same run rather than across runs.",
    "",
    ...(EXTRA_CA
      ? [
          `NODE_EXTRA_CA_CERTS (${EXTRA_CA}) was set on this machine and is unset for all rows: it adds the`,
          "parsing of that CA bundle to every node start, which the image does not have.",
          "",
        ]
      : []),
    "READY is the server's `ready` log line (an event; nothing polls the starting server), confirmed with",
    'one `/health-check`; for `kiln serve` it is the CLI\'s "Model ready" line. Times in ms, median',
    "(min–max) of the rounds.",
    "",
    "| what | ms | vs ceiling | goal |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    `esbuild processes left running by \`kiln serve --no-docker\` (all runs): ${esbuildLeft}.`,
    "",
    ...stepsTable([
      ["TS, compile cached", s.serveTsSteps],
      ["Python", s.servePySteps],
      ["TS, cog.yaml edited", s.serveEditedSteps],
    ]),
  ];
  writeResults(root, "coldstart", md);
}

try {
  await main();
} finally {
  for (const image of images) removeBenchImage(image, DOCKER);
}
