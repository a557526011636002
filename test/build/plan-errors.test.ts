import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError, EXIT_CODES, ManifestError } from "../../src/errors.js";
import { prepareBuild } from "../../src/build/prepare.js";
import { loadFixtureManifest as readManifestForTest } from "./fixture-manifest.js";

const PY = "class Predictor:\n    pass\n";
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-plan-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

async function failure(files: Record<string, string>): Promise<unknown> {
  await project(files);
  return readManifestForTest(dir)
    .then(prepareBuild)
    .then(
      () => null,
      (e: unknown) => e,
    );
}

describe("build plan errors", () => {
  it("reports a missing requirements file at its cog.yaml line, exit code 3", async () => {
    const files = {
      "cog.yaml":
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\npredict: "predict.py:Predictor"\n',
      "predict.py": PY,
    };
    // Caught by loadManifest first...
    const early = (await failure(files)) as ManifestError;
    expect(early).toBeInstanceOf(ManifestError);
    expect(early.exitCode).toBe(EXIT_CODES.manifest);
    expect(early.problems[0]).toMatchObject({ line: 3, path: "build.python_requirements" });
    expect(early.problems[0]?.message).toMatch(/requirements.txt/);
    // ...and by the build when the file disappears after the manifest was read.
    await writeFile(join(dir, "requirements.txt"), "numpy\n");
    const manifest = await readManifestForTest(dir);
    await rm(join(dir, "requirements.txt"));
    const late = (await prepareBuild(manifest).catch((e: unknown) => e)) as ManifestError;
    expect(late).toBeInstanceOf(ManifestError);
    expect(late.details[0]).toBe(
      // Positioned by the manifest's own lookup (src/manifest/positions.ts): the value, not the line start.
      `cog.yaml:3:24 build.python_requirements: requirements.txt does not exist\n    hint: Create the file (pip freeze > requirements.txt) or remove python_requirements.`,
    );
  });

  it("points a torch/CUDA contradiction at the requirements line", async () => {
    const err = await failure({
      "cog.yaml":
        'build:\n  gpu: true\n  cuda: "12.4"\n  python_version: "3.11"\n  python_requirements: requirements.txt\npredict: "predict.py:Predictor"\n',
      "requirements.txt": "numpy\ntorch==2.1.0+cu118\n",
      "predict.py": PY,
    });
    expect(err).toBeInstanceOf(ManifestError);
    const p = (err as ManifestError).problems[0];
    expect(p).toMatchObject({
      file: "requirements.txt",
      line: 2,
      message: "torch is pinned to a CUDA 11.8 build but build.cuda is 12.4",
    });
  });

  it("points an unavailable cuDNN pin at build.cudnn in cog.yaml", async () => {
    const err = await failure({
      "cog.yaml":
        'build:\n  gpu: true\n  cuda: "12.6"\n  cudnn: "8"\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
      "predict.py": PY,
    });
    const p = (err as ManifestError).problems[0];
    expect(p).toMatchObject({ line: 4, column: 3, path: "build.cudnn" });
    expect(p?.message).toMatch(/cuDNN 8 is not available for CUDA 12.6/);
    expect(p?.hint).toMatch(/11.7, 11.8, 12.1, 12.2/);
  });

  it("refuses npm dependencies without a lock file", async () => {
    const err = await failure({
      "cog.yaml": 'predict: "predict.ts:predictor"\n',
      "predict.ts": "export const predictor = {};\n",
      "package.json": JSON.stringify({ dependencies: { zod: "^4.0.0" } }),
    });
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toMatch(/no package-lock.json/);
  });

  it("moves a large undeclared file into a weights layer with a note, keeping code small", async () => {
    await project({
      "cog.yaml": 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
      "predict.py": PY,
    });
    await writeFile(join(dir, "model.bin"), Buffer.alloc(11 * 1024 * 1024));
    const { plan, dockerfile } = await prepareBuild(await readManifestForTest(dir));
    expect(plan.weights).toEqual([
      { index: 0, files: [{ path: "model.bin", size: 11 * 1024 * 1024 }], bytes: 11 * 1024 * 1024 },
    ]);
    expect(plan.code.map((f) => f.path)).toEqual(["cog.yaml", "predict.py"]);
    expect(plan.notes[0]).toMatch(/^model.bin \(11.0 MiB\) is not listed under weights:/);
    expect(dockerfile).toContain("COPY kiln/weights/0/ /");
  });
});
