/**
 * loadManifest({cache: true}): the last parse is reused only while everything it was made from is
 * unchanged, and a reused manifest is the same as a fresh parse (positions of later problems included).
 */
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManifestError } from "../../src/errors.js";
import { loadManifest } from "../../src/manifest/load.js";
import { problemAt } from "../../src/manifest/positions.js";
import { makeProject, PREDICT_PY, PREDICT_TS, type Project } from "./helpers.js";

let project: Project | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

const PY_MANIFEST =
  'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n  gpu: yes\n' +
  '  system_packages: [ffmpeg]\nenvironment:\n  - MODE=fast\npredict: "predict.py:Predictor"\n' +
  "concurrency:\n  max: 2\n";

const cacheFile = (root: string): string => join(root, ".kiln", "manifest-cache.json");

async function loadTwice(root: string, file?: string) {
  const fresh = await loadManifest({ cwd: root, file, cache: true });
  const again = await loadManifest({ cwd: root, file, cache: true });
  return { fresh, again };
}

async function loadError(root: string): Promise<ManifestError> {
  const err = await loadManifest({ cwd: root, cache: true }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ManifestError);
  return err as ManifestError;
}

describe("the manifest cache", () => {
  it("reuses the parse of an unchanged project, equal to a fresh parse, warnings included", async () => {
    project = makeProject({
      "cog.yaml": PY_MANIFEST,
      "predict.py": PREDICT_PY,
      "requirements.txt": "torch==2.3.1\n",
    });
    const { fresh, again } = await loadTwice(project.root);
    expect(fresh.cached).toBe(false);
    expect(again.cached).toBe(true);
    expect(again.manifest).toEqual(fresh.manifest);
    // `gpu: yes` is read as YAML 1.1 and warned about: the warning comes back from the cache too.
    expect(fresh.warnings.map((w) => w.path)).toEqual(["build.gpu"]);
    expect(again.warnings).toEqual(fresh.warnings);
    const uncached = await loadManifest({ cwd: project.root });
    expect(uncached.cached).toBe(false);
    expect(uncached.manifest).toEqual(again.manifest);
  });

  it("positions problems found after loading at the same line and column as a fresh parse", async () => {
    project = makeProject({
      "cog.yaml": PY_MANIFEST,
      "predict.py": PREDICT_PY,
      "requirements.txt": "",
    });
    const { fresh, again } = await loadTwice(project.root);
    expect(again.cached).toBe(true);
    for (const [path, at, line, column] of [
      [["build", "system_packages", 0], "value", 5, 21],
      [["concurrency", "max"], "key", 10, 3],
      [["build", "cuda"], "key", 1, 1], // not written: its nearest ancestor, build:
    ] as const) {
      const a = problemAt(fresh.manifest, [...path], "m", { at });
      expect(a).toMatchObject({ line, column });
      expect(problemAt(again.manifest, [...path], "m", { at })).toEqual(a);
    }
  });

  it("parses again when cog.yaml changes, and reports its errors as always", async () => {
    project = makeProject({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": PREDICT_TS });
    await loadTwice(project.root);
    project.write("cog.yaml", 'predict: "predict.ts:predictor"\nimage: "Bad Name"\n');
    const err = await loadError(project.root);
    expect(err.problems[0]).toMatchObject({ line: 2, path: "image" });
    // The failed parse left the old record alone; restoring the file makes it valid again.
    project.write("cog.yaml", 'predict: "predict.ts:predictor"\n');
    expect((await loadManifest({ cwd: project.root, cache: true })).cached).toBe(true);
  });

  it("parses again when a file the rules looked at is gone, changed or replaced", async () => {
    project = makeProject({
      "cog.yaml": PY_MANIFEST,
      "predict.py": PREDICT_PY,
      "requirements.txt": "torch\n",
    });
    await loadTwice(project.root);
    rmSync(join(project.root, "requirements.txt"));
    expect((await loadError(project.root)).problems[0]).toMatchObject({ path: "build.python_requirements" });
    // Back as it was when the record was made (a failed parse leaves the record alone): a hit.
    project.write("requirements.txt", "torch\n");
    expect((await loadManifest({ cwd: project.root, cache: true })).cached).toBe(true);

    // The predictor class renamed: the name check reads the source, so this is a miss and an error.
    project.write("predict.py", PREDICT_PY.replace("class Predictor", "class Other"));
    expect((await loadError(project.root)).problems[0]).toMatchObject({ path: "predict" });
    project.write("predict.py", PREDICT_PY);
    await loadManifest({ cwd: project.root, cache: true });

    // A file turned into a directory.
    rmSync(join(project.root, "requirements.txt"));
    project.write("requirements.txt/inner", "");
    expect((await loadError(project.root)).problems[0]?.message).toContain("is a directory");
  });

  it("keys on the file and its display name: -f, another directory, a moved project", async () => {
    project = makeProject({
      "cog.yaml": 'predict: "predict.ts:predictor"\n',
      "predict.ts": PREDICT_TS,
      "sub/x": "",
    });
    await loadTwice(project.root);
    const fromSub = await loadManifest({ cwd: join(project.root, "sub"), cache: true });
    expect(fromSub.cached).toBe(false); // named ../cog.yaml from there
    const viaFlag = await loadManifest({ cwd: join(project.root, "sub"), file: "../cog.yaml", cache: true });
    expect(viaFlag.cached).toBe(true);
    expect(viaFlag.manifest.root).toBe(project.root);
  });

  it("a damaged or foreign record is a miss, and is replaced", async () => {
    project = makeProject({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": PREDICT_TS });
    await loadTwice(project.root);
    const record = JSON.parse(readFileSync(cacheFile(project.root), "utf8")) as Record<string, unknown>;
    for (const bad of ["{", "null", "[]", JSON.stringify({ ...record, format: 0 })]) {
      writeFileSync(cacheFile(project.root), bad);
      const loaded = await loadManifest({ cwd: project.root, cache: true });
      expect(loaded.cached).toBe(false);
      expect(loaded.manifest.predict?.name).toBe("predictor");
    }
    // A record of other manifest code (an upgraded kiln) is not trusted either.
    writeFileSync(cacheFile(project.root), JSON.stringify({ ...record, code: "another kiln" }));
    expect((await loadManifest({ cwd: project.root, cache: true })).cached).toBe(false);
    expect((await loadManifest({ cwd: project.root, cache: true })).cached).toBe(true);
  });

  it("is written only when asked, and never for a file with errors", async () => {
    project = makeProject({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": PREDICT_TS });
    await loadManifest({ cwd: project.root });
    expect(existsSync(cacheFile(project.root))).toBe(false);
    project.write("cog.yaml", "predict: 3\n");
    await loadError(project.root);
    expect(existsSync(cacheFile(project.root))).toBe(false);
  });

  it("does not store what JSON cannot carry exactly", async () => {
    // `.inf` is a YAML number JSON has no spelling for: the raw manifest keeps it, so no record.
    project = makeProject({
      "cog.yaml": 'predict: "predict.ts:predictor"\nkiln:\n  cache: false\nx_extra: .inf\n',
      "predict.ts": PREDICT_TS,
    });
    const first = await loadManifest({ cwd: project.root, cache: true });
    expect(first.manifest.raw["x_extra"]).toBe(Infinity);
    expect(existsSync(cacheFile(project.root))).toBe(false);
  });

  it("a touched file with the same content still hits", async () => {
    project = makeProject({ "cog.yaml": 'predict: "predict.ts:predictor"\n', "predict.ts": PREDICT_TS });
    await loadTwice(project.root);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(project.root, "predict.ts"), later, later);
    utimesSync(join(project.root, "cog.yaml"), later, later);
    expect((await loadManifest({ cwd: project.root, cache: true })).cached).toBe(true);
  });
});
