/* global FormData, Blob, Response */
// Payload benchmark: inputs and outputs of 1, 10 and 100 MB (JSON strings, data URIs, files) through the
// predict server and its TS and Python workers, over the container API (sync), /v1 (Prefer: wait), SSE
// and webhooks, against a raw pipe copy of 100 MB between two processes measured in the same run (the
// ceiling), with /health-check polled throughout to show whether big payloads stall the server.
// Each time runs from sending the (already serialized) request until the last byte of the answer arrived
// (the client's own JSON.stringify and JSON.parse are not counted; the answer is checked afterwards). Writes bench/results/payloads.md.
// Usage: node bench/payloads.mjs [--sizes 1,10,100] [--timeout 60] [--apis container,v1,sse,webhook]
//        [--only input,echo] (rows whose payload names one of these words) [--workers TS,Python]
//        [--cpu-prof DIR] (V8 CPU profiles of the servers, threads included, written to DIR at their exit)
//        [--semi-space MB] (the servers' --max-semi-space-size: 1 as in the image, 0 for V8's default)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execFileSync } from "node:child_process";
import { childrenOf, runBenchmark, writeResults } from "./lib.mjs";
import {
  bundleRuntime,
  compileFixture,
  processCpuMs,
  pythonProject,
  root,
  startKiln,
  track,
} from "./server-lib.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SIZES_MB = opt("sizes", "1,10,100").split(",").map(Number);
const TIMEOUT_MS = Number(opt("timeout", "60")) * 1000;
const APIS = opt("apis", "container,v1,sse,webhook").split(",");
const ONLY = opt("only", "").split(",").filter(Boolean);
const WORKERS = opt("workers", "TS,Python").split(",");
// Writes V8 CPU profiles of each server process (and its worker threads) there, to see where time goes.
const CPU_PROF = opt("cpu-prof", "");
// The server's young generation as the image runs it (`node --max-semi-space-size=1 /kiln/server.mjs`,
// src/build/dockerfile.ts). 0: V8's default (a TS worker thread keeps its 1 MB semi-spaces either way).
const SEMI_SPACE_MB = Number(opt("semi-space", "1"));
const MB = 1_000_000;

const PYTHON_PREDICT = `from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, mode: str = Input(choices=["echo", "make", "read"]), text: str = "", size: int = 0,
                upload: Path = None, numbers: list[float] = None) -> str:
        if mode == "echo":
            return text
        if mode == "make":
            return "x" * size
        if numbers is not None:
            return str(len(numbers))
        return str(upload.stat().st_size) if upload else str(len(text))


class Files(BasePredictor):
    def predict(self, size: int) -> Path:
        out = Path("/tmp/kiln-bench-payload-py.bin")
        with open(out, "wb") as f:
            f.write(b"x" * size)
        return out
`;

/**
 * Milliseconds to push `bytes` through a pipe from an already running child process (its start is not
 * counted): the machine's ceiling for moving those bytes between two processes.
 */
async function rawPipe(bytes) {
  const code = `process.stdin.once("data",()=>{const b=Buffer.alloc(1<<20,120);let n=${bytes};(function w(){while(n>0){const k=Math.min(n,b.length);n-=k;if(!process.stdout.write(k===b.length?b:b.subarray(0,k)))return process.stdout.once("drain",w);}process.stdout.end();})();});console.error("up");`;
  const child = track(spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "pipe"] }));
  await new Promise((r) => child.stderr.once("data", r));
  const cpu0 = processCpuMs(child.pid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  child.stdin.end("go\n"); // and closed: the child exits once it has written (no lingering process)
  let got = 0;
  let cpu = 0;
  for await (const chunk of child.stdout) {
    got += chunk.length;
    if (got === bytes) cpu = processCpuMs(child.pid) - cpu0; // read before the child exits
  }
  if (got !== bytes) throw new Error(`pipe copy moved ${got} of ${bytes} bytes`);
  const ms = performance.now() - t0;
  const own = process.cpuUsage(own0);
  return { ms, cpuMs: cpu + (own.user + own.system) / 1000 };
}

/** A /health-check poller in its own process; mark() returns the slowest poll since the last mark. */
function startHealthPoller(url) {
  const child = track(
    spawn(process.execPath, [join(root, "bench/fixtures/health-poller.mjs"), url], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    mark: async () => {
      child.stdin.write("mark\n");
      return JSON.parse((await lines.next()).value);
    },
    stop: () => child.stdin.end(),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The longest event-loop delay the server itself saw since the previous call (SIGUSR2 to
 * bench/fixtures/loop-delay.mjs, which answers in a file); NaN if it does not answer within 2 s.
 */
function loopDelay(pid, file) {
  let seen = 0;
  return async () => {
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 400; i++) {
      await sleep(5);
      let text = "";
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue; // not written yet
      }
      const [count, ms] = text.split(" ").map(Number);
      if (count > seen) {
        seen = count;
        return ms;
      }
    }
    return Number.NaN;
  };
}

/** Waits until the poller answers polls at its steady pace (bounded: 5 s at most). */
async function warmPoller(health) {
  await health.mark();
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const m = await health.mark();
    if (m.polls >= 3 && m.worst < 100) return;
  }
}

/**
 * The slowest /health-check answer over a second in which no prediction runs: the floor the machine's
 * load sets for every row of the same run.
 */
async function idleHealth(server) {
  await server.health.mark();
  await server.loop();
  await sleep(1000);
  return { health: (await server.health.mark()).worst, loop: await server.loop() };
}

/** A local HTTP server for the benchmark's side: file inputs by URL, and webhook bodies received. */
async function startHelper() {
  const files = new Map();
  const waiters = new Map();
  const server = createServer((req, res) => {
    if (req.method === "GET") {
      const body = files.get(req.url);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      return void res.end(body);
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200).end();
      const key = new URL(req.url, "http://x").pathname;
      waiters.get(key)?.(Buffer.concat(chunks));
      waiters.delete(key);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    serve: (path, body) => files.set(path, body),
    webhook: (key) => new Promise((r) => waiters.set(key, r)),
    close: () => new Promise((r) => server.close(r)),
  };
}

let webhookSeq = 0;

/** An input given as its JSON text. */
class RawInput {
  constructor(json) {
    this.json = json;
  }
}

/** `[0.25,0.25,...]` of at most `bytes` bytes, and its item count. */
function numbersJson(bytes) {
  const count = Math.floor((bytes - 1) / 5);
  return { count, json: `[${"0.25,".repeat(count - 1)}0.25]` };
}

/**
 * The floor for a list of numbers: a TS predictor gets a JS array and a Python one a list, so the
 * worker's JSON.parse (json.loads) of those bytes has to happen somewhere. Measured here, in this
 * process (node) and in a python3 that already read the bytes (its read not counted).
 */
async function parseFloor(json) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  JSON.parse(json);
  const cpu = process.cpuUsage(cpu0);
  const node = { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  const code =
    "import json,sys,time\nd=sys.stdin.buffer.read()\nt=time.perf_counter();c=time.process_time()\njson.loads(d)\nprint((time.perf_counter()-t)*1000,(time.process_time()-c)*1000)";
  const child = track(spawn("python3", ["-c", code], { stdio: ["pipe", "pipe", "inherit"] }));
  child.stdin.end(json);
  let out = "";
  for await (const chunk of child.stdout) out += chunk;
  const [ms, cpuMs] = out.trim().split(" ").map(Number);
  return { node, python: { ms, cpuMs } };
}

/**
 * The request body for `api`, serialized before the clock starts: the client's own JSON.stringify of a
 * 100 MB input is not the server's time.
 */
async function prepareRequest(api, input, helper) {
  if (api === "v1 files") {
    // A multipart upload as the replicate client sends one (`input` is the file's bytes here).
    const form = new FormData();
    form.set("content", new Blob([input], { type: "application/octet-stream" }), "upload.bin");
    form.set("metadata", JSON.stringify({ bench: true }));
    const encoded = new Response(form);
    const type = encoded.headers.get("content-type");
    return { type, body: Buffer.from(await encoded.arrayBuffer()) };
  }
  // A RawInput is already JSON text (a list of numbers too long for JSON.stringify to build quickly).
  const inputJson = input instanceof RawInput ? input.json : JSON.stringify(input);
  if (api !== "webhook") return { body: Buffer.from(`{"input":${inputJson}}`) };
  const key = `/hook-${++webhookSeq}`;
  const rest = JSON.stringify({ webhook: `${helper.base}${key}`, webhook_events_filter: ["completed"] });
  return { key, body: Buffer.from(`{"input":${inputJson},${rest.slice(1)}`) };
}

/**
 * One prediction through `api`; returns the time until the last byte of the answer (or the completed
 * webhook) arrived, and the parsed prediction (output, status).
 */
async function callApi(api, url, { body: requestBody, key, type }, helper, lastByte) {
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  const json = { "content-type": "application/json" };
  if (api === "v1 files") {
    const r = await fetch(`${url}/v1/files`, {
      method: "POST",
      headers: { "content-type": type },
      body: requestBody,
      signal,
    });
    const bytes = await r.arrayBuffer();
    const t = performance.now();
    await lastByte();
    if (r.status !== 201) return { t, status: `HTTP ${r.status}`, bytes: bytes.byteLength };
    const file = JSON.parse(Buffer.from(bytes).toString("utf8"));
    // Removed again, so repeated runs stay under the store's total limit.
    await fetch(`${url}/v1/files/${file.id}`, { method: "DELETE" });
    return { t, status: "succeeded", output: file.size, bytes: bytes.byteLength };
  }
  if (api === "container" || api === "v1") {
    const path = api === "v1" ? "/v1/models/bench/payload/predictions" : "/predictions";
    const headers = api === "v1" ? { ...json, prefer: "wait=60" } : json;
    const r = await fetch(`${url}${path}`, {
      method: "POST",
      headers,
      body: requestBody,
      signal,
    });
    const bytes = await r.arrayBuffer();
    const t = performance.now();
    await lastByte();
    if (!r.ok) return { t, status: `HTTP ${r.status}`, bytes: bytes.byteLength };
    const body = JSON.parse(Buffer.from(bytes).toString("utf8"));
    return { t, status: body.status, output: body.output, bytes: bytes.byteLength };
  }
  if (api === "sse") {
    const r = await fetch(`${url}/predictions`, {
      method: "POST",
      headers: { ...json, accept: "text/event-stream" },
      body: requestBody,
      signal,
    });
    const bytes = await r.arrayBuffer();
    const t = performance.now();
    await lastByte();
    const text = Buffer.from(bytes).toString("utf8");
    const at = text.indexOf("event: completed\ndata: ");
    if (at < 0) return { t, status: `no completed event (HTTP ${r.status})`, bytes: bytes.byteLength };
    const body = JSON.parse(text.slice(at + 23, text.indexOf("\n", at + 23)));
    return { t, status: body.status, output: body.output, bytes: bytes.byteLength };
  }
  // webhook: async prediction; the clock stops when the completed webhook's body has arrived
  const arrived = helper.webhook(key);
  const r = await fetch(`${url}/predictions`, {
    method: "POST",
    headers: { ...json, prefer: "respond-async" },
    body: requestBody,
    signal,
  });
  await r.arrayBuffer();
  if (!r.ok) return { t: performance.now(), status: `HTTP ${r.status}`, bytes: 0 };
  const body = await Promise.race([
    arrived,
    new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason))),
  ]);
  const t = performance.now();
  await lastByte();
  const parsed = JSON.parse(body.toString("utf8"));
  return { t, status: parsed.status, output: parsed.output, bytes: body.length };
}

async function measure(api, server, input, check, helper) {
  await server.health.mark();
  await server.loop();
  const worker = childrenOf(server.pid)[0];
  const prepared = await prepareRequest(api, input, helper);
  // Checking the last answer and serializing this request can take longer than the server's 5 s
  // keep-alive on a busy machine: a request sent then on the pooled connection races the server
  // closing it ("fetch failed"). One small request first finds a closed one and renews the timer.
  await fetch(`${server.url}/health-check`)
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
  const cpu0 = { server: processCpuMs(server.pid), worker: processCpuMs(worker) };
  const t0 = performance.now();
  let result;
  let h;
  let loopMs;
  try {
    result = await callApi(api, server.url, prepared, helper, async () => {
      h = await server.health.mark();
      loopMs = await server.loop();
    });
    if (result.status === "succeeded") check(result.output);
  } catch (err) {
    result = {
      t: performance.now(),
      status:
        err?.name === "TimeoutError"
          ? "timeout"
          : `error: ${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ""}`,
    };
  }
  h ??= await server.health.mark();
  loopMs ??= await server.loop();
  const cpu = { server: processCpuMs(server.pid) - cpu0.server, worker: processCpuMs(worker) - cpu0.worker };
  return {
    cpu,
    ms: result.t - t0,
    status: result.status,
    bytes: result.bytes ?? 0,
    // What crossed the wire both ways (a container answer carries its input back, as Cog's does).
    moved: prepared.body.length + (result.bytes ?? 0),
    healthWorstMs: h.worst,
    loopMs,
    polls: h.polls,
  };
}

const expectLength = (n) => (out) => {
  if (typeof out !== "string" || out.length !== n)
    throw new Error(`output of ${out?.length} chars, expected ${n}`);
};
const expectValue = (v) => (out) => {
  if (out !== v) throw new Error(`output ${String(out).slice(0, 40)}, expected ${v}`);
};
const expectDataUri = (n) => (out) => {
  const comma = typeof out === "string" ? out.indexOf(",") : -1;
  if (comma < 0 || Buffer.from(out.slice(comma + 1), "base64").length !== n)
    throw new Error(`output is not a data URI of ${n} bytes`);
};

async function main() {
  const work = mkdtempSync(join(tmpdir(), "kiln-bench-payloads-"));
  const helper = await startHelper();
  try {
    const runtime = await bundleRuntime(work);
    const ts = await compileFixture(work, "payload.ts");
    const py = pythonProject(work, "payload", PYTHON_PREDICT);
    // Each server reports its own event-loop delay (bench/fixtures/loop-delay.mjs) beside the polls.
    const watched = (name, options) => {
      const file = join(work, `loop-delay-${name}`);
      const env = { ...options.env, KILN_BENCH_LOOP_DELAY_FILE: file };
      const flags = ["--import", join(root, "bench/fixtures/loop-delay.mjs")];
      if (CPU_PROF) flags.push("--cpu-prof", `--cpu-prof-dir=${CPU_PROF}`);
      if (SEMI_SPACE_MB > 0) flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
      return startKiln({ ...runtime, ...options, env, nodeFlags: flags }).then((s) =>
        Object.assign(s, { loop: loopDelay(s.pid, file) }),
      );
    };
    const servers = {
      "TS strings": await watched("ts-strings", { dir: ts.dir, predictor: `${ts.file}:strings` }),
      "TS files": await watched("ts-files", { dir: ts.dir, predictor: `${ts.file}:files` }),
      "Python strings": await watched("py-strings", {
        dir: py.dir,
        predictor: "predict.py:Predictor",
        env: py.env,
      }),
      "Python files": await watched("py-files", { dir: py.dir, predictor: "predict.py:Files", env: py.env }),
    };
    for (const s of Object.values(servers)) s.health = startHealthPoller(s.url);
    // A poller's first requests pay for its own start (undici's first fetch): not the server's time.
    for (const s of Object.values(servers)) await warmPoller(s.health);
    const rows = [];
    const pipe = {};
    const floor = {};
    const floorParse = {};
    const loads = [loadavg()[0]];
    for (const mb of SIZES_MB) {
      const n = mb * MB;
      pipe[mb] = await rawPipe(n);
      floor[mb] = await idleHealth(servers["TS strings"]);
      const text = "x".repeat(n);
      const blob = Buffer.alloc(n, 120);
      // A data URI of n characters (3/4 n bytes decoded): 100 MB of it fits the default 100 MiB body limit.
      const uriBytes = Math.floor((n - 40) / 4) * 3;
      const dataUri = `data:application/octet-stream;base64,${blob.subarray(0, uriBytes).toString("base64")}`;
      const numbers = numbersJson(n - 40);
      floorParse[mb] =
        ONLY.length === 0 || ONLY.some((w) => "number list input".includes(w))
          ? await parseFloor(numbers.json)
          : null;
      helper.serve(`/input-${mb}.bin`, blob);
      const fileUrl = `${helper.base}/input-${mb}.bin`;
      const cases = [];
      for (const lang of WORKERS) {
        const s = `${lang} strings`;
        const f = `${lang} files`;
        for (const api of APIS) {
          cases.push([s, api, "string output", { mode: "make", size: n }, expectLength(n)]);
          cases.push([f, api, "file output (data URI)", { size: n }, expectDataUri(n)]);
          cases.push([s, api, "string input", { mode: "read", text }, expectValue(String(n))]);
        }
        cases.push([s, "container", "string in + out (echo)", { mode: "echo", text }, expectLength(n)]);
        cases.push([
          s,
          "container",
          "data URI file input",
          { mode: "read", upload: dataUri },
          expectValue(String(uriBytes)),
        ]);
        cases.push([
          s,
          "container",
          "file input by URL",
          { mode: "read", upload: fileUrl },
          expectValue(String(n)),
        ]);
        cases.push([
          s,
          "container",
          "number list input",
          new RawInput(`{"mode":"read","numbers":${numbers.json}}`),
          expectValue(String(numbers.count)),
        ]);
        if (APIS.includes("v1")) cases.push([s, "v1 files", "multipart file upload", blob, expectValue(n)]);
      }
      const picked = cases.filter(([, , what]) => ONLY.length === 0 || ONLY.some((w) => what.includes(w)));
      for (const [server, api, what, input, check] of picked) {
        const r = await measure(api, servers[server], input, check, helper);
        // Also against the pipe copy scaled to the bytes the row moved (request and answer, and the
        // file a URL input downloads).
        if (what === "file input by URL") r.moved += n;
        const movedRatio = r.ms / ((pipe[mb].ms * r.moved) / n);
        rows.push({ mb, server, api, what, ...r, ratio: r.ms / pipe[mb].ms, movedRatio });
        console.log(
          mb,
          "MB",
          server,
          api,
          what,
          r.status,
          `${r.ms.toFixed(0)} ms`,
          `cpu server ${r.cpu.server} worker ${r.cpu.worker}`,
          `health ≤ ${r.healthWorstMs.toFixed(1)} ms`,
          `server loop delay ≤ ${r.loopMs.toFixed(1)} ms`,
        );
      }
      loads.push(loadavg()[0]);
    }
    for (const s of Object.values(servers)) {
      s.health.stop();
      await s.stop();
    }

    const top = Math.max(...SIZES_MB);
    const topRows = rows.filter((r) => r.mb === top);
    const outputs = topRows.filter((r) => r.what.includes("output"));
    const worstHealth = Math.max(...rows.map((r) => r.healthWorstMs));
    const worstLoop = Math.max(...rows.map((r) => r.loopMs));
    const ok = (b) => (b ? "✓" : "✗");
    const tsOut = topRows.find(
      (r) => r.server === "TS strings" && r.api === "container" && r.what === "string output",
    );
    const uptime = execFileSync("uptime").toString().trim();
    const lines = [
      "# Payload benchmark",
      "",
      `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU · 1-minute load average ${loads.map((l) => l.toFixed(1)).join(" → ")} (start, after each size).`,
      `\`uptime\` at the end: ${uptime}`,
      `Servers started as the image starts them: \`node ${SEMI_SPACE_MB > 0 ? `--max-semi-space-size=${SEMI_SPACE_MB} ` : ""}server.mjs\` (a TS worker thread runs with 1 MB semi-spaces either way, src/runtime/worker-command.ts).`,
      "",
      "Command: `node bench/payloads.mjs" +
        (argv.length ? ` ${argv.join(" ")}` : "") +
        "`. Each row is one prediction on",
      "loopback: `container` a sync `POST /predictions`, `v1` `POST /v1/models/.../predictions` with `Prefer: wait`,",
      "`sse` a `POST /predictions` read as `text/event-stream` to its end, `webhook` an async prediction timed until",
      "its `completed` webhook body has arrived. Times run from sending the request, serialized beforehand, to the",
      "last byte (the client's JSON.stringify and JSON.parse are not counted). The ceiling is a raw pipe copy of the same number of bytes between two processes, measured in",
      "the same run; health is the slowest `GET /health-check` answer while the prediction ran, polled every 5 ms",
      "from a process of its own (bench/fixtures/health-poller.mjs). A poll also waits for the poller, the client and",
      "every other process on the CPU; the server loop delay column is the longest event-loop delay the server",
      "itself saw during the row (monitorEventLoopDelay, bench/fixtures/loop-delay.mjs), which a loaded machine",
      "stretches too (see the idle floor) but which only the server's own work can make long on a quiet one.",
      "",
      "CPU columns are user+sys ms of the server and of its worker during the row (10 ms resolution; they do",
      "not depend on how busy the machine is, wall times do). The pipe copy's CPU counts both of its ends.",
      "",
      "`MB moved` counts the request, the answer and a URL input's download (a container API answer carries the input back, as",
      "Cog's does, so an input row moves its payload twice); `× pipe per byte` compares the row with the",
      "pipe copy scaled to those bytes.",
      "",
      "| MB | worker | API | payload | status | ms | × raw pipe | MB moved | × pipe per byte | server CPU ms | worker CPU ms | slowest health ms | server loop delay ms |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows.map(
        (r) =>
          `| ${r.mb} | ${r.server.split(" ")[0]} | ${r.api} | ${r.what} | ${r.status} | ${r.ms.toFixed(0)} | ${r.ratio.toFixed(1)} | ${(r.moved / MB).toFixed(0)} | ${r.movedRatio.toFixed(1)} | ${r.cpu.server} | ${r.cpu.worker} | ${r.healthWorstMs.toFixed(1)} | ${r.loopMs.toFixed(1)} |`,
      ),
      "",
      `Raw pipe copy: ${SIZES_MB.map((mb) => `${mb} MB ${pipe[mb].ms.toFixed(0)} ms (${pipe[mb].cpuMs.toFixed(0)} ms CPU)`).join(", ")}.`,
      ...SIZES_MB.filter((mb) => floorParse[mb]).map(
        (mb) =>
          `Parse floor for the ${mb} MB number list (the worker must turn it into a JS array or a Python list): JSON.parse ${floorParse[mb].node.ms.toFixed(0)} ms (${floorParse[mb].node.cpuMs.toFixed(0)} ms CPU), python3 json.loads ${floorParse[mb].python.ms.toFixed(0)} ms (${floorParse[mb].python.cpuMs.toFixed(0)} ms CPU).`,
      ),
      `Idle floor (1 s with no prediction running, before each size): slowest /health-check ${SIZES_MB.map((mb) => `${mb} MB ${floor[mb].health.toFixed(1)} ms`).join(", ")}; server loop delay ${SIZES_MB.map((mb) => `${mb} MB ${floor[mb].loop.toFixed(1)} ms`).join(", ")}.`,
      "",
      "| goal | measured | |",
      "|---|---|---|",
      `| ${top} MB output in ≤ 1 s (TS string output, container API) | ${tsOut?.ms.toFixed(0)} ms | ${ok(tsOut && tsOut.ms <= 1000 && tsOut.status === "succeeded")} |`,
      `| every ${top} MB output within 10× of the raw pipe copy | worst ${Math.max(...outputs.map((r) => r.ratio)).toFixed(1)}× (${outputs.filter((r) => r.ratio <= 10 && r.status === "succeeded").length} of ${outputs.length} rows) | ${ok(outputs.every((r) => r.ratio <= 10 && r.status === "succeeded"))} |`,
      `| every ${top} MB output: server + worker CPU within 10× of the pipe copy's CPU | worst ${Math.max(...outputs.map((r) => (r.cpu.server + r.cpu.worker) / pipe[top].cpuMs)).toFixed(1)}× | ${ok(outputs.every((r) => r.cpu.server + r.cpu.worker <= 10 * pipe[top].cpuMs))} |`,
      `| every case succeeded | ${rows.filter((r) => r.status === "succeeded").length} of ${rows.length} | ${ok(rows.every((r) => r.status === "succeeded"))} |`,
      `| /health-check < 50 ms throughout | worst ${worstHealth.toFixed(1)} ms (idle floor up to ${Math.max(...Object.values(floor).map((f) => f.health)).toFixed(1)} ms); ${rows.filter((r) => r.healthWorstMs >= 50).length} of ${rows.length} rows over 50 ms | ${ok(worstHealth < 50)} |`,
      `| the server's own event loop never stalls 50 ms | worst ${worstLoop.toFixed(1)} ms (idle floor up to ${Math.max(...Object.values(floor).map((f) => f.loop)).toFixed(1)} ms); ${rows.filter((r) => r.loopMs >= 50).length} of ${rows.length} rows at 50 ms or more | ${ok(worstLoop < 50)} |`,
      "",
    ];
    writeResults(root, "payloads", lines);
  } finally {
    await helper.close();
    rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
