/**
 * --no-docker: the same server and workers run on this machine (node; python3 for Python predictors),
 * and it is what predict/serve do, with a notice, when no Docker engine answers.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, startKilnServer } from "./predict-cli.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const NO_ENGINE = { DOCKER_HOST: "unix:///nonexistent/kiln-test-docker.sock" };
let ts: string;
let py: string;

beforeAll(async () => {
  ts = await mkdtemp(join(tmpdir(), "kiln-local-ts-"));
  await cp(join(EXAMPLES, "hello-ts"), ts, { recursive: true });
  py = await mkdtemp(join(tmpdir(), "kiln-local-py-"));
  await writeFile(
    join(py, "cog.yaml"),
    'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
  );
  await writeFile(
    join(py, "predict.py"),
    [
      "from cog import BasePredictor, Input, Path",
      "",
      "",
      "class Predictor(BasePredictor):",
      "    def predict(self, f: Path, words: list[str] = Input(default=[])) -> Path:",
      '        print("words=" + "|".join(words))',
      '        out = Path("echo-" + f.name)  # in the project (cwd), which the test removes',
      "        out.write_bytes(f.read_bytes())",
      "        return out",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await rm(ts, { recursive: true, force: true });
  await rm(py, { recursive: true, force: true });
});

describe("kiln predict --no-docker", () => {
  it("runs a TypeScript predictor in-process", async () => {
    const r = await kiln(["predict", "--no-docker", "-i", "name=Ada", "-i", "style=whisper"], { cwd: ts });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("hello, ada!\n");
  });

  it("runs a Python predictor with python3: file round trip and a list", async () => {
    const bytes = randomBytes(50_000);
    await writeFile(join(py, "in.bin"), bytes);
    const r = await kiln(
      ["predict", "--no-docker", "-i", "f=@in.bin", "-i", "words=x", "-i", "words=y", "-o", "out.bin"],
      { cwd: py },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("words=x|y");
    expect((await readFile(join(py, "out.bin"))).equals(bytes)).toBe(true);
  });

  it("checks inputs against the schema the worker reports", async () => {
    const r = await kiln(["predict", "--no-docker", "-i", "times=0"], { cwd: ts });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("times: 0 is too small: expected an integer from 1 to 5");
  });

  it("is the fallback, with a one-line notice, when no Docker engine answers", async () => {
    const r = await kiln(["predict", "-i", "name=Eve"], { cwd: ts, env: NO_ENGINE });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("Hello, Eve!\n");
    expect(r.stderr.split("\n").filter((l) => l.includes("No Docker engine reachable"))).toHaveLength(1);
  });

  it("refuses IMAGE without an engine, saying why", async () => {
    const r = await kiln(["predict", "some/image", "-i", "a=1"], { cwd: ts, env: NO_ENGINE });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("cannot run some/image: no Docker engine is reachable");
  });
});

describe("kiln serve --no-docker", () => {
  it("serves in-process (with --api-token on /v1) until Ctrl-C", async () => {
    const { url, stop } = await startKilnServer(
      ["serve", "--no-docker", "-p", "0", "--api-token", "s3cret"],
      {
        cwd: ts,
      },
    );
    // --api-token guards every route but /health-check, the container API included.
    const body = '{"input":{"name":"Sam"}}';
    const json = { "content-type": "application/json" };
    expect((await fetch(`${url}/predictions`, { method: "POST", headers: json, body })).status).toBe(401);
    const res = await fetch(`${url}/predictions`, {
      method: "POST",
      headers: { ...json, authorization: "Bearer s3cret" },
      body,
    });
    expect(((await res.json()) as { output: unknown }).output).toBe("Hello, Sam!");
    expect((await fetch(`${url}/v1/predictions`)).status).toBe(401);
    expect(
      (await fetch(`${url}/v1/predictions`, { headers: { authorization: "Bearer s3cret" } })).status,
    ).toBe(200);
    const r = await stop();
    expect(r.code).toBe(0);
  });

  it("starts again without checking an unchanged cog.yaml anew, and --debug says where the start went", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kiln-local-again-"));
    try {
      await cp(ts, dir, { recursive: true, filter: (src) => !src.includes("/.kiln") });
      const steps = async (): Promise<{ stderr: string; timings: Record<string, number> }> => {
        const server = await startKilnServer(["serve", "--no-docker", "-p", "0", "--debug"], { cwd: dir });
        const r = await server.stop();
        expect(r.code).toBe(0);
        const line = /timings \(ms\): (\{.*\})/.exec(r.stderr);
        expect(line).not.toBeNull();
        return { stderr: r.stderr, timings: JSON.parse(line?.[1] ?? "{}") as Record<string, number> };
      };
      const first = await steps();
      expect(first.stderr).not.toContain("reusing its cached parse");
      const again = await steps();
      expect(again.stderr).toContain("cog.yaml unchanged: reusing its cached parse");
      for (const key of ["boot", "manifest", "compile", "worker", "listen", "ready", "total", "cpu"])
        expect(again.timings[key], key).toBeGreaterThanOrEqual(0);
      // An edit is checked again (and a broken one reported as always).
      await writeFile(
        join(dir, "cog.yaml"),
        `${await readFile(join(dir, "cog.yaml"), "utf8")}image: "Not Valid"\n`,
      );
      const r = await kiln(["serve", "--no-docker", "-p", "0"], { cwd: dir });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("image");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
