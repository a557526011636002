// Helpers benchmarks share: Linux /proc readers and a free local port (server.mjs, python-worker.mjs),
// random weight files (build.mjs, push.mjs).
import { spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
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
export function runLine() {
  return `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU · load average ${loadavg()[0].toFixed(1)} at the end.`;
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
