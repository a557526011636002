/**
 * What the thread mode (the default for node predictors) must get right beyond the shared suites:
 * the server's event loop stays free while the predictor spins synchronously, a spinning predictor that
 * ignores cancel is stopped, a heap that runs out ends only the worker, and a native addon a thread
 * cannot load (really compiled here, really refused by Node) sends the predictor to a process.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import { createLogger } from "../../src/runtime/logger.js";
import { startServer, type RunningServer } from "../../src/runtime/server.js";
import { startThreadWorker } from "../../src/runtime/worker-thread.js";
import { NODE_WORKER_MODES, eventually, fixtureProject, request, startFixture } from "./helpers.js";

const servers: RunningServer[] = [];
const stopFiles: string[] = [];
afterEach(async () => {
  // A test that failed half-way leaves no predictor spinning through the drain.
  for (const f of stopFiles.splice(0)) writeFileSync(f, "");
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const started = async (s: Promise<RunningServer>): Promise<RunningServer> => {
  const server = await s;
  servers.push(server);
  return server;
};
const stopFile = (): string => {
  const f = join(mkdtempSync(join(tmpdir(), "kiln-spin-")), "stop");
  stopFiles.push(f);
  return f;
};

/** Until the predictor's busy loop has begun: it writes `started` (in its directory) first. */
async function spinning(until: string): Promise<void> {
  const started = join(dirname(until), "started");
  await eventually(() => expect(existsSync(started)).toBe(true));
}

describe.each(NODE_WORKER_MODES)("%s worker running a synchronous busy loop", (mode) => {
  it("the server still answers health checks and cancels while the predictor spins", async () => {
    const s = await started(startFixture("spin", { nodeWorkerMode: mode }));
    expect(s.worker.mode).toBe(mode);
    const until = stopFile();
    const created = await request(s.url, "/predictions", {
      body: { id: "spin-1", input: { until, started: join(dirname(until), "started") } },
      headers: { prefer: "respond-async" },
    });
    expect(created.status).toBe(202);
    await spinning(until);
    // A thread's log frame leaves even while it spins (a process's waits for its event loop).
    if (mode === "thread") await eventually(() => expect(s.runner.get("spin-1")?.logs).toMatch(/spinning/));
    // The predictor cannot return before the stop file exists: these answers came while it spun.
    for (let i = 0; i < 3; i++) expect((await request(s.url, "/health-check")).body.status).toBe("BUSY");
    expect((await request(s.url, "/openapi.json")).status).toBe(200);
    expect(s.runner.get("spin-1")?.status).toBe("processing");
    writeFileSync(until, "");
    const done = await s.runner.get("spin-1")!.finished;
    expect(done.output).toBe("stopped spinning");
  });

  it("a cancel the spinning predictor cannot see stops the worker after the grace; it comes back", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l: string) => lines.push(l) });
    const s = await started(startFixture("spin", { nodeWorkerMode: mode, cancelGraceMs: 200, logger }));
    const before = s.worker.workerId;
    const until = stopFile();
    await request(s.url, "/predictions", {
      body: { id: "spin-2", input: { until, started: join(dirname(until), "started") } },
      headers: { prefer: "respond-async" },
    });
    await spinning(until);
    expect((await request(s.url, "/predictions/spin-2/cancel", { method: "POST" })).status).toBe(200);
    expect((await s.runner.get("spin-2")!.finished).status).toBe("canceled");
    // A fresh worker (setup again), then READY.
    await eventually(() => expect(s.worker.workerId).not.toBe(before));
    await eventually(async () => expect((await request(s.url, "/health-check")).body.status).toBe("READY"));
    expect(lines.join("\n")).toMatch(/ignored its cancel/);
  });
});

describe("thread worker out of memory", () => {
  it("ends only the thread: the prediction fails saying so, the server lives and restarts the worker", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l: string) => lines.push(l) });
    const s = await started(
      startFixture("hog", {
        logger,
        nodeWorkerResourceLimits: { maxOldGenerationSizeMb: 48 },
        restartBackoffMs: [50],
      }),
    );
    expect(s.worker.mode).toBe("thread");
    const r = await request(s.url, "/predictions", { body: {} });
    expect(r.body.status).toBe("failed");
    expect(r.body.error).toMatch(
      /the worker ran out of memory: its JavaScript heap reached the limit of 48 MB/,
    );
    expect(r.body.logs).toMatch(/allocating/);
    await eventually(async () => expect((await request(s.url, "/health-check")).body.status).toBe("READY"));
    const health = await request(s.url, "/health-check");
    expect(health.body.last_worker_exit ?? JSON.stringify(health.body)).toMatch(/ran out of memory/);
    expect(lines.join("\n")).toMatch(/restarting it/);
  });
});

/** A native addon built the old way (NODE_MODULE, not context-aware): one copy per process. */
function buildLegacyAddon(dir: string): string {
  const source = join(dir, "legacy.cc");
  writeFileSync(
    source,
    [
      "#include <node.h>",
      "static void Answer(const v8::FunctionCallbackInfo<v8::Value>& args) {",
      "  args.GetReturnValue().Set(v8::Number::New(args.GetIsolate(), 42));",
      "}",
      'static void Init(v8::Local<v8::Object> exports) { NODE_SET_METHOD(exports, "answer", Answer); }',
      "NODE_MODULE(legacy, Init)",
      "",
    ].join("\n"),
  );
  const headers = "/usr/include/node";
  if (!existsSync(join(headers, "node.h")))
    throw new Error(
      `node's C headers are missing (${headers}): install them with node (scripts/test-env.sh)`,
    );
  const out = join(dir, "legacy.node");
  execFileSync("g++", ["-shared", "-fPIC", "-O0", `-I${headers}`, source, "-o", out]);
  return out;
}

describe("a native addon that is not context-aware", () => {
  let root = "";
  let module = "";
  let addon = "";
  beforeAll(async () => {
    const fx = await fixtureProject();
    root = fx.root;
    addon = buildLegacyAddon(mkdtempSync(join(tmpdir(), "kiln-addon-")));
    writeFileSync(
      join(root, "native.ts"),
      [
        'import { createRequire } from "node:module";',
        'import { definePredictor, z } from "kiln-ml";',
        "type Addon = { answer(): number };",
        "const load = (): Addon => createRequire(import.meta.url)(process.env.KILN_TEST_ADDON!) as Addon;",
        'const atLoad: Addon | null = process.env.KILN_TEST_ADDON_AT === "load" ? load() : null;',
        "let inSetup: Addon | null = null;",
        "export const native = definePredictor({",
        "  inputs: {},",
        "  output: z.int(),",
        "  setup() {",
        '    console.log("setting up");',
        '    if (process.env.KILN_TEST_ADDON_AT === "setup") inSetup = load();',
        "  },",
        "  predict: () => (atLoad ?? inSetup)!.answer(),",
        "});",
        "",
      ].join("\n"),
    );
    const { outFile } = await compileTsPredictor(root, {
      raw: "native.ts:native",
      file: "native.ts",
      name: "native",
      language: "typescript",
    });
    module = relative(root, outFile);
  }, 60_000);

  it.each(["load", "setup"])(
    "sends the predictor to a process of its own when a thread cannot load it (at %s), with a warning",
    async (at) => {
      // Loaded here first (this is the server's process): Node refuses a second copy in a thread with
      // "Module did not self-register", as it would for a server that holds one already.
      expect((createRequire(import.meta.url)(addon) as { answer(): number }).answer()).toBe(42);
      const fx = await fixtureProject();
      const lines: string[] = [];
      const s = await started(
        startServer({
          root,
          predictor: { language: "node", file: module, name: "native" },
          host: "127.0.0.1",
          port: 0,
          nodeWorkerEntry: fx.worker,
          env: { KILN_TEST_ADDON: addon, KILN_TEST_ADDON_AT: at },
          logger: createLogger({ level: "info", format: "json", write: (l: string) => lines.push(l) }),
        }),
      );
      expect(await s.ready).toBe("READY");
      expect(s.worker.mode).toBe("process");
      const warning = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.level === "warn");
      expect(warning?.msg).toMatch(/cannot run in a worker thread; running it in a process/);
      expect(warning?.reason).toMatch(/did not self-register/);
      const r = await request(s.url, "/predictions", { body: {} });
      expect(r.body).toMatchObject({ status: "succeeded", output: 42 });
      // setup() ran to completion once more, in the process.
      expect(s.health.setup.status).toBe("succeeded");
      expect(s.health.setup.logs).toContain("setting up");
    },
  );
});

describe("thread transport", () => {
  it("sends the small frames written in one turn as one message, in order; a big one after them", async () => {
    // A stand-in thread that answers each message with the frames it held, as one log frame.
    const entry = join(mkdtempSync(join(tmpdir(), "kiln-batch-")), "echo-thread.mjs");
    writeFileSync(
      entry,
      [
        'import { parentPort } from "node:worker_threads";',
        "parentPort.on('message', (d) => {",
        "  if (d === null) return process.exit(0);",
        "  const data = typeof d === 'string' ? d : `bytes:${d.byteLength}`;",
        "  parentPort.postMessage(JSON.stringify({ type: 'log', id: null, source: 'stdout', data }));",
        "});",
      ].join("\n"),
    );
    const got: string[] = [];
    const exited = new Promise<void>((resolve) => {
      const t = startThreadWorker(
        { entry, argv: [], env: {} },
        {
          message: (m) => void got.push((m as { data: string }).data),
          output: () => undefined,
          protocolError: (err) => void got.push(`error: ${err.message}`),
          exit: () => resolve(),
          unsupported: () => undefined,
        },
      );
      t.write('{"n":1}\n');
      t.write('{"n":2}\n');
      t.write(['{"n":3,"input":', Buffer.from('"x"'), "}\n"]);
      t.write('{"n":4}\n');
      void eventually(() => expect(got).toHaveLength(3)).then(() => t.end());
    });
    await exited;
    expect(got).toEqual(['{"n":1}\n{"n":2}\n', "bytes:20", '{"n":4}\n']);
  });
});
