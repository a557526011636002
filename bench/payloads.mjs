// Payload benchmark: inputs and outputs of 1, 10 and 100 MB (JSON strings, data URIs, files) through
// the predict server and its workers, against a raw pipe copy of the same bytes measured in the same run
// as the ceiling, with /health-check polled throughout to show whether big payloads stall the server.
// Writes bench/results/payloads.md. Usage: node bench/payloads.mjs [--sizes 1,10,100] [--timeout 60]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchmark, runLine, writeResults } from "./lib.mjs";
import { bundleRuntime, compileFixture, pythonProject, root, startKiln, track } from "./server-lib.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SIZES_MB = opt("sizes", "1,10,100").split(",").map(Number);
const TIMEOUT_MS = Number(opt("timeout", "60")) * 1000;
const MB = 1_000_000;

const PYTHON_STRINGS = `from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, mode: str = Input(choices=["echo", "make", "read"]), text: str = "", size: int = 0,
                upload: Path = None) -> str:
        if mode == "echo":
            return text
        if mode == "make":
            return "x" * size
        return str(upload.stat().st_size) if upload else "-1"
`;

/**
 * Milliseconds to push `bytes` through a pipe from an already running child process (its start is not
 * counted): the machine's ceiling for moving those bytes between two processes.
 */
async function rawPipeMs(bytes) {
  const code = `process.stdin.once("data",()=>{const b=Buffer.alloc(1<<20,120);let n=${bytes};(function w(){while(n>0){const k=Math.min(n,b.length);n-=k;if(!process.stdout.write(k===b.length?b:b.subarray(0,k)))return process.stdout.once("drain",w);}process.stdout.end();})();});console.error("up");`;
  const child = track(spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "pipe"] }));
  await new Promise((r) => child.stderr.once("data", r));
  const t0 = performance.now();
  child.stdin.write("go\n");
  let got = 0;
  for await (const chunk of child.stdout) got += chunk.length;
  if (got !== bytes) throw new Error(`pipe copy moved ${got} of ${bytes} bytes`);
  return performance.now() - t0;
}

/** Polls /health-check back to back until stopped; returns the slowest answer in ms. */
function watchHealth(url) {
  let stop = false;
  let worst = 0;
  let polls = 0;
  const done = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await fetch(`${url}/health-check`).then((r) => r.arrayBuffer());
      worst = Math.max(worst, performance.now() - t0);
      polls++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return async () => {
    stop = true;
    await done;
    return { worst, polls };
  };
}

/** One sync prediction; returns its wall time, the response size and the slowest health check meanwhile. */
async function predictOnce(url, input, check) {
  const health = watchHealth(url);
  const t0 = performance.now();
  let status = "timeout";
  let bytes = 0;
  try {
    const r = await fetch(`${url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await r.text();
    bytes = text.length;
    const body = JSON.parse(text);
    status = body.status;
    if (status === "succeeded") check(body.output);
  } catch (err) {
    if (err?.name !== "TimeoutError") status = `error: ${err.message}`;
  }
  const ms = performance.now() - t0;
  const h = await health();
  return { ms, bytes, status, healthWorstMs: h.worst, healthPolls: h.polls };
}

const expectLength = (n) => (out) => {
  if (typeof out !== "string" || out.length !== n)
    throw new Error(`output of ${out?.length} chars, expected ${n}`);
};
const expectValue = (v) => (out) => {
  if (out !== v) throw new Error(`output ${String(out).slice(0, 40)}, expected ${v}`);
};

async function main() {
  const work = mkdtempSync(join(tmpdir(), "kiln-bench-payloads-"));
  try {
    const runtime = await bundleRuntime(work);
    const ts = await compileFixture(work, "payload.ts");
    const py = pythonProject(work, "payload", PYTHON_STRINGS);
    const servers = {
      "TS worker": await startKiln({ ...runtime, dir: ts.dir, predictor: `${ts.file}:strings` }),
      "TS worker, file output": await startKiln({ ...runtime, dir: ts.dir, predictor: `${ts.file}:files` }),
      "Python worker": await startKiln({
        ...runtime,
        dir: py.dir,
        predictor: "predict.py:Predictor",
        env: py.env,
      }),
    };
    const rows = [];
    const pipe = {};
    for (const mb of SIZES_MB) {
      const n = mb * MB;
      pipe[mb] = await rawPipeMs(n);
      const text = "x".repeat(n);
      const dataUri = `data:application/octet-stream;base64,${Buffer.alloc(n, 120).toString("base64")}`;
      const cases = [
        ["TS worker", "string output", { mode: "make", size: n }, expectLength(n)],
        ["TS worker", "string input", { mode: "read", text }, expectValue("-1")],
        ["TS worker", "string echo (in + out)", { mode: "echo", text }, expectLength(n)],
        ["TS worker", "data URI file input", { mode: "read", upload: dataUri }, expectValue(String(n))],
        ["TS worker, file output", "file output (data URI answer)", { size: n }, () => undefined],
        ["Python worker", "string output", { mode: "make", size: n }, expectLength(n)],
        ["Python worker", "string input", { mode: "read", text }, expectValue("-1")],
        ["Python worker", "data URI file input", { mode: "read", upload: dataUri }, expectValue(String(n))],
      ];
      for (const [server, what, input, check] of cases) {
        const r = await predictOnce(servers[server].url, input, check);
        rows.push({ mb, server, what, ...r, ratio: r.ms / pipe[mb] });
        console.log(
          mb,
          "MB",
          server,
          what,
          r.status,
          `${r.ms.toFixed(0)} ms`,
          `health ≤ ${r.healthWorstMs.toFixed(1)} ms`,
        );
      }
    }
    for (const s of Object.values(servers)) await s.stop();

    const top = Math.max(...SIZES_MB);
    const topRows = rows.filter((r) => r.mb === top);
    const worstHealth = Math.max(...rows.map((r) => r.healthWorstMs));
    const lines = [
      "# Payload benchmark",
      "",
      runLine(),
      "Each row is one sync `POST /predictions` through the server and its worker on loopback; the ceiling is",
      "a raw pipe copy of the same number of bytes from a child process, measured in the same run. Health is",
      "the slowest `GET /health-check` answer while the prediction ran (polled every 5 ms).",
      "",
      "| MB | worker | payload | status | ms | × raw pipe | slowest health ms |",
      "|---|---|---|---|---|---|---|",
      ...rows.map(
        (r) =>
          `| ${r.mb} | ${r.server} | ${r.what} | ${r.status} | ${r.ms.toFixed(0)} | ${r.ratio.toFixed(1)} | ${r.healthWorstMs.toFixed(1)} |`,
      ),
      "",
      `Raw pipe copy: ${SIZES_MB.map((mb) => `${mb} MB ${pipe[mb].toFixed(0)} ms`).join(", ")}.`,
      "",
      "| goal | measured | |",
      "|---|---|---|",
      `| ${top} MB output in ≤ 1 s (TS string output) | ${topRows.find((r) => r.server === "TS worker" && r.what === "string output")?.ms.toFixed(0)} ms | |`,
      `| every ${top} MB case within 10× of the raw pipe copy | worst ${Math.max(...topRows.map((r) => r.ratio)).toFixed(1)}× | ${topRows.every((r) => r.ratio <= 10 && r.status === "succeeded") ? "✓" : "✗"} |`,
      `| /health-check < 50 ms throughout | worst ${worstHealth.toFixed(1)} ms | ${worstHealth < 50 ? "✓" : "✗"} |`,
      "",
    ];
    writeResults(root, "payloads", lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
