/**
 * Issue #14's CLI-side regressions, through the real CLI process: POST /shutdown ends `kiln serve`
 * with exit 0 (image and --no-docker), `kiln predict REGISTRY/img` pulls with the stored credentials, subprocesses a model starts do not keep `kiln predict
 * --no-docker` alive, COG_SETUP_TIMEOUT applies to `serve --no-docker`, `kiln predict | head -c 4`
 * exits quietly and removes its container, an interrupted build stops `docker build` and removes its
 * temp dir (exit 130), and containers left by a killed kiln are removed by the next command.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import type { Engine } from "../../src/docker/engine.js";
import { execDocker } from "../helpers/docker-cli.js";
import { isAlive } from "../helpers/process.js";
import { AUTH_PASSWORD, AUTH_REGISTRY, AUTH_USER, requireRegistry } from "../helpers/docker.js";
import { BASE_NODE, requireBuildEnv } from "./build-helpers.js";
import { cliPath, collect, spawnKiln, startKilnServer, type KilnServer } from "./predict-cli.js";
import { buildTestImage, cogSchema, engine, kilnContainers, removeImage } from "./predict-helpers.js";

const ROOT = new URL("../../", import.meta.url);
const TAG = `kiln-test/harden-model:${process.pid}`;
const SCHEMA = cogSchema({ input: { n: { type: "integer", "x-order": 0 } }, output: { type: "string" } });
const TS = `import { definePredictor, z } from "kiln-ml";
export const predictor = definePredictor({
  inputs: { n: z.int().default(1) },
  output: z.string(),
  predict: ({ n }) => "x".repeat(n),
});
`;
let docker: Engine;
// Other test files (and other people's) share the engine and the kiln.test=1 label: count only ours.
const RUN_LABEL = `kiln.harden-run=${process.pid}`;
const LABELS = { KILN_CONTAINER_LABELS: `kiln.test=1,${RUN_LABEL}` };
const ours = (): Promise<string[]> => kilnContainers(docker, RUN_LABEL);
const run = (args: string[], opts: { cwd: string; env?: Record<string, string> }) =>
  spawnKiln(args, { ...opts, env: { ...LABELS, ...opts.env } });
const dirs: string[] = [];
let tsProject: string;

function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `kiln-harden-${name}-`));
  dirs.push(d);
  return d;
}

async function until<T>(fn: () => T | undefined, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `kiln serve ARGS -p 0` (labelled as this run's), once the model is ready. */
const serve = (args: string[], cwd: string, env: Record<string, string> = {}): Promise<KilnServer> =>
  startKilnServer(["serve", ...args, "-p", "0"], { cwd, env: { ...LABELS, ...env } });

beforeAll(async () => {
  await requireBuildEnv();
  docker = await engine();
  await cliPath(); // dist/ and the runtime bundle
  tsProject = tempDir("ts");
  writeFileSync(join(tsProject, "cog.yaml"), 'predict: "predict.ts:predictor"\n');
  writeFileSync(join(tsProject, "predict.ts"), TS);
  const { outFile } = await compileTsPredictor(tsProject, {
    raw: "predict.ts:predictor",
    file: "predict.ts",
    name: "predictor",
    language: "typescript",
  });
  const label = JSON.stringify(JSON.stringify(SCHEMA)).replaceAll("$", "\\$");
  const bundle = new URL("dist/runtime-bundle/", ROOT);
  // server.mjs and the chunks it loads (scripts/bundle-server.mjs), and the node worker.
  const runtime = readdirSync(bundle).filter((f) => f.endsWith(".mjs"));
  await buildTestImage(
    TAG,
    [
      `FROM ${BASE_NODE}`,
      `COPY ${runtime.join(" ")} /kiln/`,
      "COPY predict.mjs /src/predict.mjs",
      "ENV KILN_ROOT=/src KILN_PREDICTOR=predict.mjs:predictor",
      `LABEL run.cog.openapi_schema=${label}`,
      'CMD ["node", "/kiln/server.mjs"]',
      "",
    ].join("\n"),
    {
      ...Object.fromEntries(runtime.map((f) => [f, new URL(f, bundle).href])),
      "predict.mjs": new URL(`file://${join(tsProject, relative(tsProject, outFile))}`).href,
    },
  );
}, 600_000);

afterAll(async () => {
  expect(await ours()).toEqual([]);
  await removeImage(docker, TAG);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("POST /shutdown stops kiln serve (defect 10)", () => {
  it("kiln serve IMAGE: exit 0 and the container is removed", async () => {
    const s = await serve([TAG], tsProject);
    expect(await ours()).toHaveLength(1);
    expect((await fetch(`${s.url}/shutdown`, { method: "POST" })).status).toBe(200);
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("The model was shut down (POST /shutdown).");
    expect(await ours()).toEqual([]);
  });

  it("kiln serve --no-docker: exit 0", async () => {
    const s = await serve(["--no-docker"], tsProject);
    expect((await fetch(`${s.url}/shutdown`, { method: "POST" })).status).toBe(200);
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("The model was shut down (POST /shutdown).");
  });
});

describe("--no-docker with a model that starts subprocesses (defects 11, 12)", () => {
  let py: string;
  beforeAll(() => {
    py = tempDir("py");
    writeFileSync(
      join(py, "cog.yaml"),
      'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
    );
    writeFileSync(
      join(py, "predict.py"),
      [
        "import os, subprocess, time",
        "from cog import BasePredictor",
        "",
        "",
        "class Predictor(BasePredictor):",
        "    def setup(self) -> None:",
        '        if os.environ.get("SLOW_SETUP"):',
        "            time.sleep(60)",
        '        self.sleeper = subprocess.Popen(["sleep", "300"])',
        '        with open("sleeper.pid", "w") as f:',
        "            f.write(str(self.sleeper.pid))",
        "",
        "    def predict(self) -> str:",
        '        return "done"',
        "",
      ].join("\n"),
    );
  });

  it("kiln predict --no-docker prints its output and exits; the `sleep 300` from setup is gone", async () => {
    const r = await collect(await run(["predict", "--no-docker"], { cwd: py }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("done\n");
    const pid = Number(readFileSync(join(py, "sleeper.pid"), "utf8"));
    await until(() => (isAlive(pid) ? undefined : true), "the sleeper to be stopped");
  });

  it("kiln serve --no-docker stops on SIGTERM (exit 0) and takes the subprocess with it", async () => {
    rmSync(join(py, "sleeper.pid"), { force: true });
    const s = await serve(["--no-docker"], py);
    const pid = Number(readFileSync(join(py, "sleeper.pid"), "utf8"));
    expect(isAlive(pid)).toBe(true);
    s.child.kill("SIGTERM");
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    await until(() => (isAlive(pid) ? undefined : true), "the sleeper to be stopped");
  });

  it("COG_SETUP_TIMEOUT applies to kiln serve --no-docker", async () => {
    // --exit-on-setup-failure: by default serve stays up answering SETUP_FAILED, as Cog's server does.
    const child = await run(["serve", "--no-docker", "-p", "0", "--exit-on-setup-failure"], {
      cwd: py,
      env: { COG_SETUP_TIMEOUT: "1", SLOW_SETUP: "1" },
    });
    const r = await collect(child);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/COG_SETUP_TIMEOUT \(1 s\)/);
  });
});

describe("pull uses the stored credentials (defect 13)", () => {
  it("after a login (config.json), kiln predict REGISTRY/img:tag pulls from the auth registry", async () => {
    await requireRegistry(AUTH_REGISTRY);
    const config = tempDir("docker-config");
    const auth = Buffer.from(`${AUTH_USER}:${AUTH_PASSWORD}`).toString("base64");
    writeFileSync(join(config, "config.json"), JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth } } }));
    const remote = `${AUTH_REGISTRY}/kiln-test/harden-pull-${process.pid}:v1`;
    await execDocker(["tag", TAG, remote]);
    const env = { DOCKER_CONFIG: config };
    const pushed = await collect(await run(["push", "--no-build", remote], { cwd: tsProject, env }));
    expect(pushed.code, pushed.stderr).toBe(0);
    await execDocker(["rmi", remote]); // only the registry has it now
    const r = await collect(await run(["predict", remote, "-i", "n=2"], { cwd: tsProject, env }));
    expect(r.stderr).not.toMatch(/no basic auth credentials/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("xx\n");
    await execDocker(["rmi", remote]);
  });
});

describe("kiln predict IMAGE | head -c 4 (defect 14)", () => {
  it("exits quietly with code 0 and removes the model's container", async () => {
    const child = await run(["predict", TAG, "-i", "n=2000000"], { cwd: tsProject });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let got = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4) {
          child.stdout?.destroy(); // what `head -c 4` does once it has its 4 bytes
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    expect(got.subarray(0, 4).toString()).toBe("xxxx");
    expect(stderr).not.toMatch(/EPIPE|Error:|at /);
    expect(code, stderr).toBe(0);
    expect(await ours()).toEqual([]);
  });
});

describe("containers left by a killed kiln (defect 16)", () => {
  it("are removed by the next kiln predict", async () => {
    const dead = spawn("true");
    const deadPid = await new Promise<number>((r) => dead.on("exit", () => r(dead.pid!)));
    const id = await docker.createContainer({
      Image: TAG,
      Labels: {
        "kiln.harden-run": String(process.pid),
        "kiln.container": "predict",
        "kiln.pid": String(deadPid),
        "kiln.host": hostname(),
        "kiln.test": "1",
      },
    });
    expect(await ours()).toContain(id);
    const r = await collect(await run(["predict", TAG, "-i", "n=3"], { cwd: tsProject }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("xxx\n");
    expect(r.stderr).toMatch(/Removed \d+ container\(s\) left by an earlier kiln that was killed\./);
    expect(await ours()).toEqual([]);
  });
});

describe("an interrupted kiln build (defect 15)", () => {
  it("SIGTERM stops the docker build, removes the kiln-build temp dir and exits 130", async () => {
    const project = tempDir("build");
    writeFileSync(
      join(project, "cog.yaml"),
      `build:\n  run:\n    - "sleep 120 # kiln-harden-${process.pid}"\npredict: "predict.ts:predictor"\n`,
    );
    writeFileSync(join(project, "predict.ts"), TS);
    const privateTmp = tempDir("tmp");
    const child = await run(
      [
        "build",
        "-t",
        `kiln-test/harden-build:${process.pid}`,
        "--base-image",
        BASE_NODE,
        "--node-image",
        BASE_NODE,
      ],
      { cwd: project, env: { TMPDIR: privateTmp } },
    );
    const done = collect(child);
    const kilnPid = child.pid!;
    // Wait for the `docker build` child to run, and for its temp dir to exist.
    const buildPid = await until(
      () => {
        let kids: string[] = [];
        try {
          kids = readFileSync(`/proc/${kilnPid}/task/${kilnPid}/children`, "utf8").trim().split(/\s+/);
        } catch {
          return undefined;
        }
        return kids.map(Number).find((pid) => {
          try {
            return /\bbuild\b/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
          } catch {
            return false;
          }
        });
      },
      "docker build to start",
      120_000,
    );
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/nterrupted/);
    await until(() => (isAlive(buildPid) ? undefined : true), "docker build to stop", 20_000);
    expect(readdirSync(privateTmp).filter((n) => n.startsWith("kiln-build-"))).toEqual([]);
    expect(existsSync(privateTmp)).toBe(true);
  });
});
