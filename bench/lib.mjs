// Helpers benchmarks share: Linux /proc readers and a free local port (server.mjs, python-worker.mjs),
// random weight files (build.mjs, push.mjs), dist/ built from this checkout and `kiln` runs
// (predict-phases.mjs, coldstart.mjs, predict-image.mjs), medians and the load note.
import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";

/** A port free on 127.0.0.1 right now. */
export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** A port free on 127.0.0.1 in [from, to) (a benchmark's own range on a machine others share). */
export async function freePortInRange(from, to) {
  for (let p = from + (process.pid % (to - from)); p < to; p++) {
    const ok = await new Promise((r) => {
      const s = createServer();
      s.once("error", () => r(false));
      s.listen(p, "127.0.0.1", () => s.close(() => r(true)));
    });
    if (ok) return p;
  }
  throw new Error(`no free port in ${from}-${to - 1}`);
}

/** Polls `fn` until it resolves truthy (errors count as not yet); throws after `ms`. */
export async function until(fn, ms, what, everyMs = 20) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resident memory of a process in KiB (0 once it is gone). */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Direct child pids of a process (the server's worker). */
export function childrenOf(pid) {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return tasks ? tasks.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** `files` incompressible files of `mib` MiB each as dir/weights/shard-N.bin, written 16 MiB at a time. */
export function writeRandomWeights(dir, files, mib) {
  mkdirSync(join(dir, "weights"));
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(dir, "weights", `shard-${i}.bin`), "w");
    for (let n = 0; n < mib / 16; n++) writeSync(fd, randomFillSync(chunk));
    closeSync(fd);
  }
}

/**
 * Compiles `source` (a predict.ts exporting `predictor`) and runs it behind the bundled server
 * (dist/runtime-bundle/server.mjs, as images do) on a free port: { server, root, port }. Needs
 * `npm run build`; exits with a hint otherwise.
 */
/**
 * Writes `source` as ROOT/predict.ts (exporting `predictor`) and compiles it with kiln's own compiler
 * (dist/: `npm run build` first; the benchmark `name` is in the message when it is missing).
 * Returns the compiled module, relative to ROOT.
 */
export async function compileBenchPredictor(repo, name, root, source) {
  let compileTsPredictor;
  try {
    ({ compileTsPredictor } = await import(join(repo, "dist/build/ts-predictor.js")));
  } catch (err) {
    console.error(
      `bench/${name}.mjs needs the compiled sources: run \`npm run build\` first (${err.message})`,
    );
    process.exit(1);
  }
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "predict.ts"), source);
  const { outFile } = await compileTsPredictor(root, {
    raw: "predict.ts:predictor",
    file: "predict.ts",
    name: "predictor",
    language: "typescript",
  });
  return relative(root, outFile);
}

/** The report line saying when and on what a benchmark ran (the load is the one at its end). */
export function runLine(startLoad) {
  const start = startLoad === undefined ? "" : `${startLoad.toFixed(1)} at the start, `;
  return `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU · load average ${start}${loadavg()[0].toFixed(1)} at the end.`;
}

/** Writes a benchmark's report to bench/results/NAME.md and prints it. */
export function writeResults(repo, name, lines) {
  mkdirSync(join(repo, "bench/results"), { recursive: true });
  writeFileSync(join(repo, "bench/results", `${name}.md`), lines.join("\n"));
  console.log(lines.join("\n"));
}

/** Runs a benchmark's main(); a failure is printed and exits 1. */
export function runBenchmark(main) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

export async function startBundledModel(repo, name, source, env = {}) {
  const root = mkdtempSync(join(tmpdir(), `kiln-bench-${name}-`));
  const module = await compileBenchPredictor(repo, name, root, source);
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [join(repo, "dist/runtime-bundle/server.mjs"), "--host", "127.0.0.1", "--port", String(port)],
    {
      env: {
        ...process.env,
        KILN_ROOT: root,
        KILN_PREDICTOR: `${module}:predictor`,
        ...env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  return { server, root, port };
}

/** Every .ts file under `dir` except declarations. */
function tsSources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsSources(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/**
 * dist/ as `npm run build` lays it out (without its type check) plus the runtime bundle images copy,
 * so a benchmark of the CLI or of images measures this checkout.
 */
export async function buildDist(repo) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: tsSources(join(repo, "src")),
    outdir: join(repo, "dist"),
    outbase: join(repo, "src"),
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
  });
  for (const script of ["bundle-cli.mjs", "bundle-manifest.mjs", "bundle-runtime.mjs"]) {
    if (!existsSync(join(repo, "scripts", script))) continue; // a baseline revision from before it
    const r = spawnSync(process.execPath, [join(repo, "scripts", script), join(repo, "dist")], {
      stdio: "ignore",
    });
    if (r.status !== 0) throw new Error(`scripts/${script} failed`);
  }
}

/** Runs `kiln ARGS` (bin/kiln.js) in `cwd`: { code, stdout, stderr, wall } with wall in ms. */
export function kilnCli(repo, args, cwd, env = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(repo, "bin", "kiln.js"), ...args], {
      cwd,
      env: { ...process.env, KILN_CONTAINER_LABELS: "kiln.bench=1", NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, wall: performance.now() - t0 }));
  });
}

/** `kiln build -t TAG` of the project in `dir` on the test base images, quietly; throws on failure. */
export async function kilnBuild(repo, dir, tag) {
  const r = await kilnCli(
    repo,
    ["build", "-t", tag, "--node-image", "kiln-test/node", "--progress", "quiet"],
    dir,
  );
  if (r.code !== 0) throw new Error(`kiln build failed:\n${r.stderr}`);
  return tag;
}

/** Median of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** "median (min–max)" of samples in ms, rounded. */
export const spread = (xs) =>
  `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

/** The machine's load as a result file notes it. */
export function loadNote() {
  const [one, five] = loadavg();
  return `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${cpus().length} cores; node ${process.version}`;
}

/** Every descendant pid of a process (children, their children, ...). */
export function descendantsOf(pid) {
  const out = [];
  for (const c of childrenOf(pid)) out.push(c, ...descendantsOf(c));
  return out;
}

/** The command line of a process ("" once it is gone). */
export function cmdlineOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/**
 * Memory of a process tree in MB: `rss` sums each process's RSS (what `ps` shows; pages of the node or
 * python binary mapped by several processes count once per process), `anon` sums their private
 * (anonymous) pages, and `charged` is anon plus each distinct executable's file pages once: what the
 * tree costs the machine (and roughly what a container's memory cgroup is charged).
 */
export function treeMemoryMb(pids) {
  const files = new Map();
  let rss = 0;
  let anon = 0;
  for (const pid of pids) {
    let status;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue;
    }
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    rss += kb("VmRSS");
    anon += kb("RssAnon");
    let exe = String(pid);
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // exited meanwhile: counted on its own
    }
    files.set(exe, Math.max(files.get(exe) ?? 0, kb("RssFile") + kb("RssShmem")));
  }
  const file = [...files.values()].reduce((a, b) => a + b, 0);
  return { rss: rss / 1024, anon: anon / 1024, charged: (anon + file) / 1024 };
}

/** Removes a benchmark's image and the dependencies image kiln built it on (kiln-deps:<fingerprint>). */
export function removeBenchImage(image, docker = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker") {
  const fp = spawnSync(
    docker,
    ["image", "inspect", "-f", '{{index .Config.Labels "kiln.deps.fingerprint"}}', image],
    {
      encoding: "utf8",
    },
  ).stdout?.trim();
  spawnSync(docker, ["image", "rm", "-f", image], { stdio: "ignore" });
  if (fp) spawnSync(docker, ["image", "rm", "-f", `kiln-deps:${fp.slice(0, 24)}`], { stdio: "ignore" });
}

/**
 * Git revision `ref` of `repo` exported to a temporary directory (git archive), with this checkout's
 * node_modules linked in and dist/ built: a baseline to run beside this checkout in the same rounds.
 */
export async function exportRevision(repo, ref) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-baseline-"));
  const archive = spawnSync("git", ["archive", ref], { cwd: repo, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
  const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  await buildDist(dir);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `--name VALUE` from the command line, or `dflt`. */
export function option(name, dflt) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
}

/** The no-op Python predictor (bench/fixtures/noop.py), the twin of bench/fixtures/noop.ts. */
export const PYTHON_NOOP = readFileSync(new URL("./fixtures/noop.py", import.meta.url), "utf8");

/**
 * `docker run` arguments for a benchmark container: removed on exit, named, labelled kiln.bench=1, on
 * the host network with PORT and JSON logs, then `runArgs`, the image and its command.
 */
export function benchRunArgs(name, port, image, command, runArgs = []) {
  return [
    "run",
    "--rm",
    "--name",
    name,
    "--label",
    "kiln.bench=1",
    "--network",
    "host",
    "-e",
    `PORT=${port}`,
    "-e",
    "LOG_FORMAT=json",
    ...runArgs,
    image,
    ...command,
  ];
}

/** The host pids of a running container's processes but its init (tini): the server and its worker. */
export function containerPids(name, docker = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker") {
  const init = Number(
    spawnSync(docker, ["inspect", "-f", "{{.State.Pid}}", name], { encoding: "utf8" }).stdout.trim(),
  );
  return [init, ...descendantsOf(init)].filter((p) => !/(^|\/)tini( |$)/.test(cmdlineOf(p)));
}
