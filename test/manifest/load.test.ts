/** loadManifest: discovery, -f, and files that are not a manifest at all. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManifestError, ManifestNotFoundError, EXIT_CODES } from "../../src/errors.js";
import { loadManifest } from "../../src/manifest/load.js";
import { makeProject, PREDICT_TS, type Project } from "./helpers.js";

let project: Project | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

const TS_MANIFEST = 'predict: "predict.ts:predictor"\n';

async function loadError(opts: { cwd: string; file?: string }): Promise<ManifestError> {
  const err = await loadManifest(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ManifestError);
  return err as ManifestError;
}

describe("finding cog.yaml", () => {
  it("finds cog.yaml in the working directory", async () => {
    project = makeProject({ "cog.yaml": TS_MANIFEST, "predict.ts": PREDICT_TS });
    const { manifest, warnings } = await loadManifest({ cwd: project.root });
    expect(manifest.root).toBe(project.root);
    expect(manifest.file).toBe(join(project.root, "cog.yaml"));
    expect(warnings).toEqual([]);
  });

  it("searches upward from a subdirectory, and resolves paths against the manifest's directory", async () => {
    project = makeProject({ "cog.yaml": TS_MANIFEST, "predict.ts": PREDICT_TS });
    const deep = join(project.root, "a", "b", "c");
    mkdirSync(deep, { recursive: true });
    const { manifest } = await loadManifest({ cwd: deep });
    expect(manifest.root).toBe(project.root);
    expect(manifest.predict?.file).toBe("predict.ts");
  });

  it("names the file relative to the working directory in problems", async () => {
    project = makeProject({ "cog.yaml": "predict: missing.ts:x\n" });
    const deep = join(project.root, "sub");
    mkdirSync(deep);
    const err = await loadError({ cwd: deep });
    expect(err.problems[0]?.file).toBe("../cog.yaml");
  });

  it("fails clearly when there is no cog.yaml anywhere up the tree", async () => {
    project = makeProject({});
    const err = await loadManifest({ cwd: project.root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestNotFoundError);
    expect((err as ManifestNotFoundError).exitCode).toBe(EXIT_CODES.manifest);
    expect((err as ManifestNotFoundError).message).toContain(`No cog.yaml found in ${project.root}`);
    expect((err as ManifestNotFoundError).hint).toContain("kiln init");
  });

  it("points at a cog.yml with the wrong extension", async () => {
    project = makeProject({ "cog.yml": TS_MANIFEST });
    const err = (await loadManifest({ cwd: project.root }).catch((e: unknown) => e)) as ManifestNotFoundError;
    expect(err.message).toContain("there is a cog.yml");
  });

  it("-f uses another file, relative to the working directory", async () => {
    project = makeProject({
      "configs/gpu.yaml": 'predict: "../predict.ts:predictor"\n',
      "predict.ts": PREDICT_TS,
      "cog.yaml": "nonsense: true\n",
    });
    const err = await loadError({ cwd: project.root, file: "configs/gpu.yaml" });
    // The project root is the manifest's directory, so ../ leaves the project.
    expect(err.problems[0]).toMatchObject({ file: "configs/gpu.yaml", path: "predict" });

    project.write("configs/predict.ts", PREDICT_TS);
    project.write("configs/gpu.yaml", TS_MANIFEST);
    const { manifest } = await loadManifest({ cwd: project.root, file: "configs/gpu.yaml" });
    expect(manifest.root).toBe(join(project.root, "configs"));
  });

  it("-f with a missing file or a directory", async () => {
    project = makeProject({ "dir/cog.yaml": TS_MANIFEST, "dir/predict.ts": PREDICT_TS, "empty/x": "" });
    await expect(loadManifest({ cwd: project.root, file: "nope.yaml" })).rejects.toThrow(
      /The manifest nope.yaml does not exist/,
    );
    await expect(loadManifest({ cwd: project.root, file: "empty" })).rejects.toThrow(
      /empty is a directory without a cog.yaml/,
    );
    const { manifest } = await loadManifest({ cwd: project.root, file: "dir" });
    expect(manifest.root).toBe(join(project.root, "dir"));
  });

  it("returns deprecation warnings without failing", async () => {
    project = makeProject({
      "cog.yaml":
        'build:\n  python_version: "3.12"\n  python_packages: [numpy]\npredict: "predict.ts:predictor"\n',
      "predict.ts": PREDICT_TS,
    });
    const { warnings } = await loadManifest({ cwd: project.root });
    expect(warnings).toEqual([
      expect.objectContaining({
        file: "cog.yaml",
        line: 3,
        column: 3,
        path: "build.python_packages",
        severity: "warning",
        message: "python_packages is deprecated",
      }),
    ]);
  });
});

describe("files that are not a usable manifest", () => {
  it("malformed YAML is a positioned error", async () => {
    project = makeProject({ "cog.yaml": 'build:\n  gpu: [true\npredict: "x"\n' });
    const err = await loadError({ cwd: project.root });
    expect(err.exitCode).toBe(EXIT_CODES.manifest);
    expect(err.details.join("\n")).toMatch(/^cog\.yaml:\d+:\d+ invalid YAML: /);
  });

  it("a binary file named cog.yaml", async () => {
    project = makeProject({
      "cog.yaml": Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]),
    });
    const err = await loadError({ cwd: project.root });
    expect(err.details).toEqual([
      "cog.yaml:1:1 the file is not text (it contains binary data)\n    hint: cog.yaml must be a YAML text file in UTF-8",
    ]);
  });

  it("invalid UTF-8 without NUL bytes", async () => {
    project = makeProject({
      "cog.yaml": Buffer.from([0x62, 0x75, 0x69, 0x6c, 0x64, 0x3a, 0xc3, 0x28, 0x0a]),
    });
    const err = await loadError({ cwd: project.root });
    expect(err.message).toBe("cog.yaml has 1 problem");
    expect(err.details[0]).toContain("not valid UTF-8");
  });

  it("a UTF-16 file", async () => {
    project = makeProject({
      "cog.yaml": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("predict: x", "utf16le")]),
    });
    expect((await loadError({ cwd: project.root })).details[0]).toContain("UTF-16");
  });

  it("an empty file", async () => {
    project = makeProject({ "cog.yaml": "" });
    const err = await loadError({ cwd: project.root });
    expect(err.details[0]).toContain("cog.yaml:1:1 the file is empty");
  });

  it("a 10 MB file is refused before parsing", async () => {
    project = makeProject({
      "cog.yaml": `build:\n  run:\n${"    - echo padding padding padding\n".repeat(300_000)}`,
    });
    const err = await loadError({ cwd: project.root });
    expect(err.details).toEqual([
      "cog.yaml:1:1 the file is 10.0 MB; kiln refuses manifests larger than 1 MB\n    hint: cog.yaml holds settings only (a few KB): is this the right file?",
    ]);
  });

  it("a manifest with 30 mistakes reports all 30 at once, in file order", async () => {
    const lines = ["build:"];
    for (let i = 0; i < 15; i++) lines.push(`  system_package${i}: 1`);
    lines.push("environment:");
    for (let i = 0; i < 15; i++) lines.push(`  - PATH${i === 0 ? "" : `_${i}`}`);
    project = makeProject({ "cog.yaml": `${lines.join("\n")}\n` });
    const err = await loadError({ cwd: project.root });
    expect(err.problems).toHaveLength(30);
    expect(err.message).toBe("cog.yaml has 30 problems");
    const linesSeen = err.problems.map((p) => p.line);
    expect(linesSeen).toEqual([...linesSeen].sort((a, b) => a - b));
    expect(err.details[0]).toBe(
      'cog.yaml:2:3 build.system_package0: unknown key "system_package0" under build\n    hint: did you mean "system_packages"?',
    );
  });

  it("hundreds of mistakes are capped to a bounded answer", async () => {
    project = makeProject({ "cog.yaml": `environment:\n${"  - nope\n".repeat(500)}` });
    const err = await loadError({ cwd: project.root });
    expect(err.problems).toHaveLength(51);
    expect(err.problems[50]?.message).toBe("... and 450 more problems not shown");
    expect(err.message).toBe("cog.yaml has 500 problems");
  });

  it("alias bombs are refused, not expanded", async () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
    ];
    project = makeProject({ "cog.yaml": `${bomb.join("\n")}\n` });
    const err = await loadError({ cwd: project.root });
    expect(err.details.join("\n")).toMatch(/invalid YAML: .*alias/i);
  });

  it("deep nesting is an error, not a crash", async () => {
    project = makeProject({ "cog.yaml": `a: ${"[".repeat(5000)}${"]".repeat(5000)}\n` });
    const err = await loadError({ cwd: project.root });
    expect(err.details.join("\n")).toContain("invalid YAML: the file is nested too deeply");
  });

  it(
    "thousands of unknown keys give a capped list of warnings, and the manifest still loads",
    { tags: ["slow"] },
    async () => {
      project = makeProject({
        "cog.yaml": `${TS_MANIFEST}${Array.from({ length: 20_000 }, (_, i) => `key${i}: ${i}`).join("\n")}\n`,
        "predict.ts": PREDICT_TS,
      });
      const { warnings } = await loadManifest({ cwd: project.root });
      expect(warnings).toHaveLength(51);
      expect(warnings[50]?.message).toBe("... and 19950 more problems not shown");
    },
  );

  it("huge values are cut short in messages", async () => {
    project = makeProject({ "cog.yaml": `predict: ${"x".repeat(500_000)}\n? ${"k".repeat(10_000)}\n: 1\n` });
    const err = await loadError({ cwd: project.root });
    expect(err.problems).toHaveLength(1); // the unknown (but not mistyped) key is a warning
    for (const line of err.details) expect(line.length).toBeLessThan(400);
    expect(err.details[0]).toContain('found "xxxxxxxx');
  });
});
