/**
 * Bad input for kiln build: each gives a clear message and the exit code from the table.
 */
import { open, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { BASE_NODE, cleanup, kiln, tempProject, uniqueTag, requireBuildEnv } from "./build-helpers.js";

const dirs: string[] = [];
afterAll(() => cleanup(dirs));

async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempProject(null);
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const TS =
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: { t: z.string() }, output: z.string(), predict: async ({ t }) => t });\n';
const PY_YAML = 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n';

describe("kiln build bad input", () => {
  beforeAll(requireBuildEnv);
  it("names a non-existent apt package, the failing step and its log (exit 5)", async () => {
    const dir = await project({
      "cog.yaml": 'build:\n  system_packages:\n    - kiln-no-such-package\npredict: "predict.ts:predictor"\n',
      "predict.ts": TS,
    });
    const r = await kiln(
      [
        "build",
        "-t",
        uniqueTag("apt"),
        "--base-image",
        BASE_NODE,
        "--node-image",
        BASE_NODE,
        "--progress",
        "quiet",
      ],
      dir,
    );
    expect(r.code).toBe(EXIT_CODES.build);
    expect(r.stderr).toMatch(/error: build step failed: \[stage-0 \d\/\d+\] RUN --mount=type=cache/);
    expect(r.stderr).toMatch(/Unable to locate package kiln-no-such-package/);
    expect(r.stderr).toMatch(/hint: An apt package in build.system_packages does not exist/);
    expect(r.stderr.split("\n").length).toBeLessThan(40);
  });

  it("reports a Python syntax error before building (exit 5)", async () => {
    const dir = await project({
      "cog.yaml": PY_YAML,
      "predict.py": "class Predictor:\n    def predict(self) -> str\n        return 'x'\n",
    });
    const r = await kiln(["build", "-t", uniqueTag("pysyntax")], dir);
    expect(r.code).toBe(EXIT_CODES.build);
    expect(r.stderr).toContain("error: predict.py has a syntax error");
    expect(r.stderr).toMatch(/predict.py:2:\d+: expected ':'/);
  });

  it("reports a TypeScript syntax error with file:line:col (exit 5)", async () => {
    const dir = await project({
      "cog.yaml": 'predict: "predict.ts:predictor"\n',
      "predict.ts": TS.replace("=> t });", "=> t ;"),
    });
    const r = await kiln(["build", "-t", uniqueTag("tssyntax")], dir);
    expect(r.code).toBe(EXIT_CODES.build);
    expect(r.stderr).toMatch(/predict.ts:2:\d+/);
  });

  it("refuses a symlink loop in the project (exit 5)", async () => {
    const dir = await project({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": TS });
    await symlink("loop-b", join(dir, "loop-a"));
    await symlink("loop-a", join(dir, "loop-b"));
    const r = await kiln(
      ["build", "-t", uniqueTag("loop"), "--base-image", BASE_NODE, "--node-image", BASE_NODE],
      dir,
    );
    expect(r.code).toBe(EXIT_CODES.build);
    expect(r.stderr).toContain("error: loop-a is part of a symlink loop (loop-a -> loop-b -> ...)");
  });

  it("notes a 2 GiB file that is not declared as weights (kiln dockerfile)", async () => {
    const dir = await project({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": TS });
    const fh = await open(join(dir, "model.bin"), "w");
    await fh.truncate(2 * 1024 ** 3);
    await fh.close();
    const r = await kiln(["dockerfile", "--context"], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: model.bin \(2.0 GiB\) is not listed under weights: but is large; it goes into its own weights layer/,
    );
    expect(r.stdout).toMatch(/2\.0 GiB {2}kiln\/weights\/0\/src\/model.bin/);
    expect(r.stdout).not.toMatch(/^\S+ +src\/model.bin$/m);
  });
});

describe("kiln build without an engine", () => {
  it("fails fast with exit 4 when DOCKER_HOST points to a dead socket", async () => {
    const dir = await project({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": TS });
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///tmp/kiln-no-such-docker.sock";
    try {
      const r = await kiln(["build"], dir);
      expect(r.code).toBe(EXIT_CODES.dockerUnavailable);
      // The in-process client may be cached from earlier tests; then the docker CLI reports it instead.
      expect(r.stderr).toMatch(
        /error: Cannot reach (the|a) Docker engine at (DOCKER_HOST=)?unix:\/\/\/tmp\/kiln-no-such-docker.sock/,
      );
      expect(r.stderr).toMatch(/hint: Start (the|a) (Docker )?engine/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});

describe("kiln build without an engine (fresh process)", () => {
  it("exits 4 with where it looked and how to fix it", async () => {
    const dir = await project({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": TS });
    const { execa } = await import("execa");
    const bin = join(import.meta.dirname, "../../bin/kiln.js");
    const r = await execa(process.execPath, [bin, "build"], {
      cwd: dir,
      reject: false,
      env: { DOCKER_HOST: "unix:///tmp/kiln-no-such-docker.sock" },
    });
    expect(r.exitCode).toBe(EXIT_CODES.dockerUnavailable);
    expect(r.stderr).toContain(
      "error: Cannot reach the Docker engine at unix:///tmp/kiln-no-such-docker.sock (DOCKER_HOST)",
    );
  });
});
