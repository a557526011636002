// What the server benchmarks share: the runtime bundled from source (so a run measures this checkout
// without `npm run build`), fixture predictors compiled the way `kiln build` compiles them, a kiln server
// started on a free port and awaited until READY, the bare node:http ceiling, and /proc readers.
import { build } from "esbuild";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { bundleServer } from "../scripts/bundle-server.mjs";
import { childrenOf, freePort, rssKb } from "./lib.mjs";

export const root = fileURLToPath(new URL("../", import.meta.url));

// Every child started here, so a failing run never leaves servers behind.
const children = new Set();
export function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

const esm = { bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" };

/**
 * The server and node worker entry points, bundled into `work` as the image's runtime bundle is; from
 * this checkout, or from the sources under `from` (another revision, exported).
 */
export async function bundleRuntime(work, from = root) {
  const version = JSON.parse(readFileSync(join(from, "package.json"), "utf8")).version;
  // server.mjs and its lazily loaded chunks, exactly as scripts/bundle-runtime.mjs writes them.
  await bundleServer(join(from, "src/runtime/main.ts"), work, version);
  const serverEntry = join(work, "server.mjs");
  const workerEntry = join(work, "node-worker.mjs");
  await build({
    ...esm,
    entryPoints: [join(from, "src/runtime/workers/node/main.ts")],
    outfile: workerEntry,
  });
  return { serverEntry, workerEntry };
}

/** A bench/fixtures/*.ts predictor compiled like compileTsPredictor does ("kiln-ml" -> the SDK). */
export async function compileFixture(work, fixture) {
  const dir = join(work, `project-${fixture.replace(/\W+/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  const out = fixture.replace(/\.ts$/, ".mjs");
  await build({
    ...esm,
    entryPoints: [join(root, "bench/fixtures", fixture)],
    outfile: join(dir, out),
    alias: { "kiln-ml": join(root, "src/sdk/index.ts") },
  });
  return { dir, file: out };
}

/** A Python project holding `source` as predict.py, run by the real interpreter (not a pyenv shim). */
export function pythonProject(work, name, source) {
  const dir = join(work, `python-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "predict.py"), source);
  return {
    dir,
    env: {
      KILN_PYTHON: execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim(),
      KILN_PYTHON_WORKER_DIR: join(root, "src/runtime/workers/python"),
    },
  };
}

/** CPU time (user+sys) of one process in ms (10 ms resolution); 0 once it is gone. */
export function processCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime+stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

/** CPU time (user+sys, ms, 10 ms resolution) of each thread of a process, by thread id. */
export function threadCpuMs(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
      out.set(Number(tid), ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** CPU time (user+sys) of a process and its direct children, in ms: insensitive to a busy machine. */
export function treeCpuMs(pid) {
  return processCpuMs(pid) + childrenOf(pid).reduce((a, c) => a + processCpuMs(c), 0);
}

/** RSS of a process and its direct children (server + worker), in MB. */
export const treeRssMb = (pid) => (rssKb(pid) + childrenOf(pid).reduce((a, c) => a + rssKb(c), 0)) / 1024;

/** Polls /health-check until READY; setup failure, an early exit or `limitMs` after `t0` throw. */
export async function waitUntilReady(url, child, t0, limitMs) {
  for (;;) {
    try {
      const body = await (await fetch(`${url}/health-check`)).json();
      if (body.status === "READY") return;
      if (body.status === "SETUP_FAILED") throw new Error(`setup failed: ${body.setup.logs}`);
    } catch (err) {
      if (String(err).includes("setup failed")) throw err;
    }
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before READY`);
    if (performance.now() - t0 > limitMs)
      throw new Error(`server did not become READY in ${limitMs / 1000} s`);
    await sleep(2);
  }
}

/**
 * Waits for the server's `ready` log line on `stream` (an event: nothing polls the starting server, so
 * the wait itself takes no CPU from it) and confirms it with one /health-check. Resolves with the
 * seconds from process start the server reported (`since_start_s`).
 */
export function readyFromLog(url, child, stream, t0, limitMs) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => fail(new Error(`no ready line in ${limitMs / 1000} s`)), limitMs);
    const onExit = (code) => fail(new Error(`server exited with ${code} before READY`));
    function fail(err) {
      clearTimeout(timer);
      stream.off("data", onData);
      child.off("exit", onExit);
      reject(err);
    }
    function onData(d) {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('"msg":"ready"')) continue;
        const readyMs = performance.now() - t0;
        clearTimeout(timer);
        stream.off("data", onData);
        child.off("exit", onExit);
        stream.resume();
        fetch(`${url}/health-check`)
          .then((r) => r.json())
          .then((h) =>
            h.status === "READY"
              ? resolve({ readyMs, sinceStartMs: JSON.parse(line).since_start_s * 1000 })
              : reject(new Error(`ready logged but /health-check says ${h.status}`)),
          )
          .catch(reject);
        return;
      }
    }
    stream.setEncoding("utf8");
    stream.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Starts the bundled server for `predictor` ("file:name") in `dir` and waits for READY (by polling, or
 * with `readyBy: "log"` by its ready log line). Returns its URL, pid, the time and CPU it took to get
 * READY (and with "log" the server's own `sinceStartMs`), and stop().
 */
export async function startKiln({
  serverEntry,
  workerEntry,
  dir,
  predictor,
  env = {},
  nodeFlags = [],
  readyBy = "poll",
}) {
  const port = await freePort();
  const byLog = readyBy === "log";
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeFlags, serverEntry, "--host", "127.0.0.1", "--port", String(port)],
    {
      // The project root, as an image's WORKDIR is (a node worker thread shares the server's cwd).
      cwd: dir,
      env: {
        ...process.env,
        KILN_ROOT: dir,
        KILN_PREDICTOR: predictor,
        KILN_NODE_WORKER: workerEntry,
        COG_LOG_LEVEL: byLog ? "info" : "error",
        ...(byLog ? { LOG_FORMAT: "json" } : {}),
        ...env,
      },
      stdio: ["ignore", byLog ? "pipe" : "ignore", "ignore"],
    },
  );
  track(child);
  const url = `http://127.0.0.1:${port}`;
  let readyMs;
  let sinceStartMs;
  if (byLog) ({ readyMs, sinceStartMs } = await readyFromLog(url, child, child.stdout, t0, 20_000));
  else {
    await waitUntilReady(url, child, t0, 20_000);
    readyMs = performance.now() - t0;
  }
  const readyCpuMs = treeCpuMs(child.pid);
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
  return { url, pid: child.pid, readyMs, sinceStartMs, readyCpuMs, stop };
}

/**
 * The ceiling: a bare node:http server that does the least a prediction server must — read the body,
 * parse it as JSON, answer JSON — in a process of its own, like the kiln server. `bare-relay.mjs` adds
 * one pipe round trip to a child process per request: the floor of any design with a worker process.
 */
export async function startBare(fixture = "bare-server.mjs") {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [join(root, "bench/fixtures", fixture), String(port)], {
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  await new Promise((r) => child.stdout.once("data", r));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill();
      await new Promise((r) => child.once("exit", r));
    },
  };
}
