import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv, ConfigError } from "../../src/runtime/config.js";
import { serverLogEvent } from "../../src/runtime/ready-file.js";
import { bundleServerEntry, eventually, fixtureProject, request, type FixtureProject } from "./helpers.js";

const REPO_ROOT = join(import.meta.dirname, "../..");

describe("configFromEnv", () => {
  it("maps Cog flags and env to server options", () => {
    const o = configFromEnv(
      ["--port", "6000", "--upload-url=http://u/", "--await-explicit-shutdown", "true"],
      {
        KILN_PREDICTOR: "predict.py:Predictor",
        KILN_TRAIN: "train.py:train",
        COG_SETUP_TIMEOUT: "2.5",
        COG_MAX_CONCURRENCY: "4",
        COG_THROTTLE_RESPONSE_INTERVAL: "0.1",
        WEBHOOK_AUTH_TOKEN: "t",
        COG_WEIGHTS: "http://w",
        LOG_FORMAT: "console",
        COG_LOG_LEVEL: "warning",
      },
    );
    expect(o).toMatchObject({
      root: "/src",
      host: "0.0.0.0",
      port: 6000,
      uploadUrl: "http://u/",
      awaitExplicitShutdown: true,
      predictor: { language: "python", file: "predict.py", name: "Predictor" },
      train: { language: "python", file: "train.py", name: "train" },
      setupTimeoutMs: 2500,
      maxConcurrency: 4,
      throttleMs: 100,
      webhookAuthToken: "t",
      weights: "http://w",
      logFormat: "console",
      logLevel: "warn",
    });
    expect(configFromEnv([], { KILN_PREDICTOR: "p.mjs:predictor", PORT: "7000" })).toMatchObject({
      port: 7000,
      predictor: { language: "node" },
    });
  });

  it("rejects bad configuration with a clear message", () => {
    expect(() => configFromEnv([], {})).toThrow(/neither KILN_PREDICTOR nor KILN_TRAIN is set/);
    expect(() => configFromEnv([], { KILN_PREDICTOR: "predict.ts:p" })).toThrow(/compiled to .mjs/);
    expect(() => configFromEnv([], { KILN_PREDICTOR: "nocolon" })).toThrow(ConfigError);
    expect(() => configFromEnv(["--bogus"], { KILN_PREDICTOR: "a.py:A" })).toThrow(/unknown flag --bogus/);
    expect(() => configFromEnv([], { KILN_PREDICTOR: "a.py:A", COG_MAX_CONCURRENCY: "0" })).toThrow(
      /positive integer/,
    );
  });
});

describe("container entry (bundled src/runtime/main.ts)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-entry-test-"));
  const entry = join(dir, "server.mjs");
  let fx: FixtureProject;
  beforeAll(async () => {
    fx = await fixtureProject();
    await bundleServerEntry(entry);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(
    env: Record<string, string>,
    args: string[] = [],
  ): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
    let out = "";
    const child = spawn(process.execPath, [entry, "--host", "127.0.0.1", ...args], {
      env: { ...process.env, KILN_ROOT: fx.root, KILN_NODE_WORKER: fx.worker, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    return { child, out: () => out, exit };
  }

  it("starts from env, logs JSON lines, and exits 0 on SIGTERM after in-flight work finishes", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const { child, out, exit } = run({ KILN_PREDICTOR: `${fx.module}:slow`, PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => expect((await request(url, "/health-check")).body.status).toBe("READY"),
      10_000,
    );
    expect((await request(url, "/health-check")).body.version.kiln).toBe("9.9.9-test");
    const inflight = request(url, "/predictions", { body: { input: { ms: 500 } } });
    await eventually(async () => expect((await request(url, "/health-check")).body.status).toBe("BUSY"));
    child.kill("SIGTERM");
    expect((await inflight).body.status).toBe("succeeded");
    expect(await exit).toBe(0);
    const lines = out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["server listening", "setup completed", "server stopped"]),
    );
    // One line says READY, as `kiln predict IMAGE` and the benchmarks recognise it.
    expect(
      out()
        .split("\n")
        .filter((l) => serverLogEvent(l) === "ready"),
    ).toHaveLength(1);
  });

  it("KILN_SHUTDOWN_DELAY: after SIGTERM the readiness file goes at once, requests are still answered, then it exits 0", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const readyFile = join(dir, `ready-${port}`);
    const { child, out, exit } = run({
      KILN_PREDICTOR: `${fx.module}:noop`,
      PORT: String(port),
      KILN_READY_FILE: readyFile,
      KILN_SHUTDOWN_DELAY: "1.5",
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(() => expect(existsSync(readyFile)).toBe(true), 10_000);
    let exited = false;
    void exit.then(() => (exited = true));
    child.kill("SIGTERM");
    await eventually(() => expect(out()).toMatch(/still answering while routing moves away/));
    expect(existsSync(readyFile)).toBe(false);
    // Within the delay a new connection is still accepted and answered.
    expect((await request(url, "/predictions", { body: {} })).body.output).toBe("ok");
    expect(exited).toBe(false);
    expect(await exit).toBe(0);
  });

  it("--await-explicit-shutdown: SIGTERM is ignored, POST /shutdown stops the server (exit 0)", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const { child, out, exit } = run({ KILN_PREDICTOR: `${fx.module}:noop`, PORT: String(port) }, [
      "--await-explicit-shutdown",
      "true",
    ]);
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => expect((await request(url, "/health-check")).body.status).toBe("READY"),
      10_000,
    );
    child.kill("SIGTERM");
    // The server says it ignored the signal; then it still answers.
    await eventually(() => expect(out()).toMatch(/SIGTERM ignored/));
    expect((await request(url, "/predictions", { body: {} })).body.output).toBe("ok");
    expect((await request(url, "/shutdown", { method: "POST" })).status).toBe(200);
    expect(await exit).toBe(0);
    expect(out()).toMatch(/SIGTERM ignored/);
  });

  it("a port already taken: exits 1, and the worker it started first does not outlive it", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    const marker = `kiln-entry-test-${process.pid}-${Date.now()}`;
    try {
      // A predictor still loading (its module waits a minute) would keep that worker alive.
      writeFileSync(join(dir, "hang.mjs"), "await new Promise((r) => setTimeout(r, 60_000));\n");
      const { out, exit } = run({
        KILN_ROOT: dir,
        KILN_PREDICTOR: "hang.mjs:predictor",
        PORT: String(port),
        KILN_TEST_MARKER: marker,
      });
      expect(await exit).toBe(1);
      expect(out()).toMatch(/EADDRINUSE/);
      // The worker (its own process group, started before the server listened) was killed with it.
      await eventually(() => expect(processesWithEnv(`KILN_TEST_MARKER=${marker}`)).toEqual([]), 10_000);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it("loads node:crypto, node:zlib and node:worker_threads only once something needs them, and /v1 on its first request", async () => {
    // A preload that records, as the process exits, which built-ins the server's main thread loaded
    // (the first to run it marks the environment, so its worker threads and children do not record).
    const preload = join(dir, "record-builtins.cjs");
    writeFileSync(
      preload,
      "if (!process.env.KILN_TEST_RECORDING) {\n" +
        '  process.env.KILN_TEST_RECORDING = "1";\n' +
        '  process.on("exit", () => require("node:fs").writeFileSync(process.env.KILN_TEST_BUILTINS_OUT, ' +
        'process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)).join("\\n")));\n' +
        "}\n",
    );
    const python = mkdtempSync(join(tmpdir(), "kiln-entry-py-"));
    writeFileSync(
      join(python, "predict.py"),
      'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return "ok"\n',
    );
    const page = join(dir, "playground-page");
    mkdirSync(page, { recursive: true });
    for (const f of ["index.html", "app.js", "app.css"]) writeFileSync(join(page, f), `<!-- ${f} -->`);
    const builtinsAfter = async (
      port: number,
      requests: (url: string) => Promise<void>,
      env: Record<string, string> = { KILN_PREDICTOR: `${fx.module}:noop` },
    ): Promise<{ builtins: string[]; out: string }> => {
      const file = join(dir, `builtins-${port}.txt`);
      const { child, out, exit } = run({
        PORT: String(port),
        NODE_OPTIONS: `--require ${preload}`,
        KILN_TEST_BUILTINS_OUT: file,
        KILN_PLAYGROUND_DIR: page,
        ...env,
      });
      const url = `http://127.0.0.1:${port}`;
      await eventually(
        async () => expect((await request(url, "/health-check")).body.status).toBe("READY"),
        10_000,
      );
      await requests(url);
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
      return { builtins: readFileSync(file, "utf8").split("\n"), out: out() };
    };

    const plain = await builtinsAfter(56100 + Math.floor(Math.random() * 400), async (url) => {
      expect((await request(url, "/predictions", { body: { input: {} } })).body.output).toBe("ok");
    });
    expect(plain.builtins).toContain("http"); // the recording works
    expect(plain.builtins).not.toContain("crypto");
    expect(plain.builtins).not.toContain("zlib");

    const py = await builtinsAfter(
      56000 + Math.floor(Math.random() * 100),
      async (url) => {
        expect((await request(url, "/predictions", { body: { input: {} } })).body.output).toBe("ok");
      },
      {
        KILN_PREDICTOR: "predict.py:Predictor",
        KILN_ROOT: python,
        KILN_PYTHON_WORKER_DIR: join(REPO_ROOT, "src/runtime/workers/python"),
      },
    );
    expect(py.builtins).toContain("child_process");
    for (const unused of ["crypto", "zlib", "worker_threads"]) expect(py.builtins).not.toContain(unused);

    const used = await builtinsAfter(56500 + Math.floor(Math.random() * 400), async (url) => {
      const page = await fetch(`${url}/playground`, { headers: { "accept-encoding": "gzip" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toBe("<!-- index.html -->");
      const v1 = await request(url, "/v1/models/acme/noop/predictions", {
        body: { input: {} },
        headers: { prefer: "wait" },
      });
      expect(v1.body).toMatchObject({ status: "succeeded", output: "ok" });
      const models = await request(url, "/v1/models");
      expect(models.status).toBe(200);
    });
    expect(used.builtins).toContain("zlib");
    expect(used.builtins).toContain("crypto"); // the default version id is a sha256
  });

  it("exits 2 with a message on bad configuration", async () => {
    const { out, exit } = run({ KILN_PREDICTOR: "" });
    expect(await exit).toBe(2);
    expect(out()).toMatch(/neither KILN_PREDICTOR nor KILN_TRAIN is set/);
  });
});

/** Live processes whose environment holds `entry` (NAME=value). */
function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(entry)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
