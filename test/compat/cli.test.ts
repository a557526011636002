/**
 * The corpus's CLI cases: `kiln` as a Cog user types it, with --no-docker (the real CLI, server and
 * Python worker on this machine). Each case's project is copied to a temp dir, since runs write outputs.
 */
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { spawn } from "node:child_process";
import { cliPath, kiln, spawnKiln } from "../integration/predict-cli.js";
import { freePort } from "../helpers/registry.js";
import { CASES_DIR, loadCases, REPO_ROOT, subsetProblems, WORKER_DIR, type Json } from "./corpus.js";

const NO_ENGINE = { DOCKER_HOST: "unix:///nonexistent/kiln-compat-docker.sock" };
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const cases = loadCases().filter((c) => c.expect.cli);

describe("Cog compatibility corpus (CLI)", () => {
  test("there are CLI cases", () => expect(cases.length).toBeGreaterThan(2));

  for (const c of cases) {
    // Each case runs the CLI as child processes (several seconds each).
    test(`${c.name}: ${c.expect.point}`, { timeout: 120_000, tags: ["slow"] }, async () => {
      const dir = await mkdtemp(join(tmpdir(), `kiln-compat-${c.name}-`));
      dirs.push(dir);
      await cp(c.dir, dir, { recursive: true });
      for (const run of c.expect.cli!) {
        const r = await kiln(run.args, {
          cwd: dir,
          env: NO_ENGINE,
          ...(run.stdin ? { stdin: run.stdin } : {}),
        });
        const where = `kiln ${run.args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        expect(r.code, where).toBe(run.code);
        if (run.stdout !== undefined) expect(r.stdout, where).toBe(run.stdout);
        if (run.stdoutJson !== undefined) {
          expect(subsetProblems(JSON.parse(r.stdout) as Json, run.stdoutJson), where).toEqual([]);
        }
        for (const s of run.stderrContains ?? []) expect(r.stderr, where).toContain(s);
        for (const [name, want] of Object.entries(run.files ?? {})) {
          const text = await readFile(join(dir, name), "utf8");
          if (typeof want === "string") expect(text, where).toBe(want);
          else expect(subsetProblems(JSON.parse(text) as Json, want.json), where).toEqual([]);
        }
      }
    });
  }
});

describe("kiln serve after a failed setup", () => {
  test("keeps serving SETUP_FAILED (as Cog's server does) until Ctrl-C", { timeout: 120_000 }, async () => {
    const child = await spawnKiln(["serve", "-p", "0", "--no-docker"], {
      cwd: join(CASES_DIR, "wire-setup-fails"),
      env: NO_ENGINE,
    });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        const m = /Still serving (http:\/\/\S+):/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`kiln serve exited (${code}): ${stderr}`)));
    });
    try {
      expect(stderr).toContain("weights are missing");
      const health = (await (await fetch(`${url}/health-check`)).json()) as { status: string };
      expect(health.status).toBe("SETUP_FAILED");
      const r = await fetch(`${url}/predictions`, { method: "POST" });
      expect(r.status).toBe(503);
    } finally {
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGINT");
      await exited;
    }
  });
});

describe("python -m cog.server.http", () => {
  // What RunPod's cog-worker and Cog's raw-Docker instructions run: here it must start kiln's server.
  test("starts kiln's server with Cog's flags and $PORT", { timeout: 120_000 }, async () => {
    await cliPath(); // builds dist/runtime-bundle/server.mjs, what images carry as /kiln/server.mjs
    const port = await freePort();
    const child = spawn(
      "python3",
      ["-m", "cog.server.http", "--host", "127.0.0.1", "--threads", "4", "--await-explicit-shutdown", "true"],
      {
        cwd: join(CASES_DIR, "cli-predict"),
        env: {
          ...process.env,
          PYTHONPATH: WORKER_DIR,
          PORT: String(port),
          KILN_SERVER: join(REPO_ROOT, "dist/runtime-bundle/server.mjs"),
          KILN_PREDICTOR: "predict.py:Predictor",
          KILN_ROOT: join(CASES_DIR, "cli-predict"),
          PYTHONDONTWRITEBYTECODE: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (;;) {
        const h = await fetch(`${url}/health-check`).then(
          (r) => r.json() as Promise<{ status: string }>,
          () => null,
        );
        if (h?.status === "READY") break;
        if (child.exitCode !== null) throw new Error(`exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr).toContain("--threads is ignored");
      const r = await fetch(`${url}/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { text: "served" } }),
      });
      expect(((await r.json()) as Json).output).toBe("SERVED int:0");
      // --await-explicit-shutdown reached the server: POST /shutdown stops it.
      expect((await fetch(`${url}/shutdown`, { method: "POST" })).status).toBe(200);
      await exited;
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  test("outside an image it says where kiln's server is expected", async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn("python3", ["-m", "cog.server.http"], {
        env: { ...process.env, PYTHONPATH: WORKER_DIR, KILN_SERVER: "/nonexistent/server.mjs" },
      });
      let stderr = "";
      c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      c.on("exit", (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("kiln's server is not at /nonexistent/server.mjs");
  });
});
