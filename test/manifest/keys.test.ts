/** Every manifest key: a valid value resolves as documented; an invalid value is an error at that key. */
import { describe, expect, it } from "vitest";
import { parseIn } from "./helpers.js";

function ok(yaml: string, files: Record<string, string> = {}) {
  const result = parseIn(yaml, files);
  const errors = result.problems.filter((p) => p.severity === "error");
  expect(errors).toEqual([]);
  if (!result.manifest) throw new Error("expected a manifest");
  return { manifest: result.manifest, warnings: result.problems.filter((p) => p.severity === "warning") };
}

function errorPaths(yaml: string, files: Record<string, string> = {}): string[] {
  const result = parseIn(yaml, files);
  expect(result.manifest).toBeUndefined();
  return result.problems.filter((p) => p.severity === "error").map((p) => p.path);
}

describe("defaults", () => {
  it("a minimal TS manifest resolves every default", () => {
    const { manifest, warnings } = ok('predict: "predict.ts:predictor"\n');
    expect(warnings).toEqual([]);
    expect(manifest.build).toEqual({
      gpu: false,
      pythonVersion: null,
      pythonRequirements: null,
      pythonPackages: [],
      systemPackages: [],
      run: [],
      cuda: null,
      cudnn: null,
      nodeVersion: 20,
      baseImage: null,
      environment: {},
      preInstall: [],
      pythonOverrides: null,
    });
    expect(manifest.predict).toEqual({
      raw: "predict.ts:predictor",
      file: "predict.ts",
      name: "predictor",
      language: "typescript",
    });
    expect(manifest.train).toBeNull();
    expect(manifest.image).toMatch(/^kiln-kiln-manifest-/);
    expect(manifest.imageExplicit).toBe(false);
    expect(manifest.concurrency).toEqual({ max: 1 });
    expect(manifest.environment).toEqual({});
    expect(manifest.weights).toEqual([]);
    expect(manifest.raw).toEqual({ predict: "predict.ts:predictor" });
    expect(manifest.file.endsWith("/cog.yaml")).toBe(true);
    expect(manifest.file.startsWith(manifest.root)).toBe(true);
  });

  it("build: with nothing under it and null lists are accepted (Cog writes them)", () => {
    const { manifest } = ok("build:\n  system_packages:\n  run:\nenvironment:\n");
    expect(manifest.build.systemPackages).toEqual([]);
    expect(manifest.build.run).toEqual([]);
    expect(manifest.predict).toBeNull();
  });
});

describe("build keys", () => {
  it("gpu", () => {
    expect(ok("build:\n  gpu: true\n").manifest.build.gpu).toBe(true);
    expect(errorPaths("build:\n  gpu: 1\n")).toEqual(["build.gpu"]);
    // Cog reads YAML 1.1, where unquoted yes/no are booleans: same meaning here, with a warning.
    const yes = ok("build:\n  gpu: yes\n");
    expect(yes.manifest.build.gpu).toBe(true);
    expect(yes.warnings.map((w) => [w.path, w.message])).toEqual([
      ["build.gpu", "yes is read as true (YAML 1.1, as Cog reads it)"],
    ]);
    expect(ok("build:\n  gpu: Off\n").manifest.build.gpu).toBe(false);
    expect(errorPaths('build:\n  gpu: "yes"\n')).toEqual(["build.gpu"]);
  });

  it("python_version", () => {
    for (const v of ["3.10", "3.11", "3.12", "3.13", "3.12.4"]) {
      expect(ok(`build:\n  python_version: "${v}"\n`).manifest.build.pythonVersion).toBe(v);
    }
    expect(errorPaths('build:\n  python_version: "3.9"\n')).toEqual(["build.python_version"]);
    expect(errorPaths('build:\n  python_version: "3.14"\n')).toEqual(["build.python_version"]);
    expect(errorPaths("build:\n  python_version: 3.10\n")).toEqual(["build.python_version"]);
  });

  it("an unquoted python_version that YAML keeps intact is accepted with a warning", () => {
    const { manifest, warnings } = ok("build:\n  python_version: 3.11\n");
    expect(manifest.build.pythonVersion).toBe("3.11");
    expect(warnings.map((w) => w.path)).toEqual(["build.python_version"]);
  });

  it("python_requirements", () => {
    expect(
      ok('build:\n  python_version: "3.12"\n  python_requirements: requirements.txt\n').manifest.build
        .pythonRequirements,
    ).toBe("requirements.txt");
    expect(errorPaths("build:\n  python_requirements: nope.txt\n")).toEqual(["build.python_requirements"]);
    expect(errorPaths("build:\n  python_requirements: /etc/passwd\n")).toEqual(["build.python_requirements"]);
    expect(errorPaths("build:\n  python_requirements: sub\n", { "sub/x": "" })).toEqual([
      "build.python_requirements",
    ]);
  });

  it("python_packages (deprecated) resolves and warns", () => {
    const { manifest, warnings } = ok(
      'build:\n  python_version: "3.12"\n  python_packages:\n    - torch==2.3.1\n    - numpy\n',
    );
    expect(manifest.build.pythonPackages).toEqual(["torch==2.3.1", "numpy"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      path: "build.python_packages",
      severity: "warning",
      line: 3,
      column: 3,
    });
    expect(errorPaths("build:\n  python_packages: [1, 2]\n")).toEqual([
      "build.python_packages[0]",
      "build.python_packages[1]",
    ]);
  });

  it("pre_install (deprecated) resolves and warns", () => {
    const { manifest, warnings } = ok("build:\n  pre_install:\n    - echo hi\n");
    expect(manifest.build.preInstall).toEqual(["echo hi"]);
    expect(warnings.map((w) => w.path)).toEqual(["build.pre_install"]);
  });

  it("system_packages", () => {
    expect(ok("build:\n  system_packages: [ffmpeg, libgl1]\n").manifest.build.systemPackages).toEqual([
      "ffmpeg",
      "libgl1",
    ]);
    expect(errorPaths('build:\n  system_packages: [""]\n')).toEqual(["build.system_packages[0]"]);
  });

  it("run: strings and {command, mounts}", () => {
    const { manifest } = ok(
      "build:\n  run:\n    - echo one\n    - command: pip install -r private.txt\n      mounts:\n        - type: secret\n          id: pip\n          target: /etc/pip.conf\n        - type: secret\n          id: token\n",
    );
    expect(manifest.build.run).toEqual([
      { command: "echo one", mounts: [] },
      {
        command: "pip install -r private.txt",
        mounts: [
          { type: "secret", id: "pip", target: "/etc/pip.conf" },
          { type: "secret", id: "token", target: "/run/secrets/token" },
        ],
      },
    ]);
    // A relative target passes through to BuildKit, as Cog passes it.
    expect(
      ok(
        "build:\n  run:\n    - command: x\n      mounts:\n        - type: secret\n          id: a\n          target: relative/token\n",
      ).manifest.build.run[0]?.mounts[0]?.target,
    ).toBe("relative/token");
    expect(
      errorPaths(
        "build:\n  run:\n    - command: x\n      mounts:\n        - {type: secret, id: a}\n        - {type: secret, id: a}\n",
      ),
    ).toEqual(["build.run[0].mounts[1].id"]);
    expect(errorPaths("build:\n  run:\n    - command: x\n      mount: []\n")).toEqual(["build.run[0].mount"]);
    expect(ok("build:\n  run:\n    - command: x\n      extra: 1\n").warnings.map((w) => w.path)).toEqual([
      "build.run[0].extra",
    ]);
    expect(errorPaths('build:\n  run:\n    - ""\n')).toEqual(["build.run[0]"]);
  });

  it("cuda and cudnn, quoted or not", () => {
    const { manifest } = ok('build:\n  gpu: true\n  cuda: 11.0\n  cudnn: "8"\n');
    expect(manifest.build.cuda).toBe("11.0");
    expect(manifest.build.cudnn).toBe("8");
    expect(ok('build:\n  gpu: true\n  cuda: "12.1"\n').manifest.build.cuda).toBe("12.1");
    expect(errorPaths("build:\n  cudnn: eight\n")).toEqual(["build.cudnn"]);
    expect(errorPaths("build:\n  cuda: true\n")).toEqual(["build.cuda"]);
  });

  it("cuda without gpu warns", () => {
    expect(ok('build:\n  cuda: "12.1"\n').warnings.map((w) => w.path)).toEqual(["build.cuda"]);
  });

  it("node_version", () => {
    expect(ok("build:\n  node_version: 22\n").manifest.build.nodeVersion).toBe(22);
    expect(ok('build:\n  node_version: "24"\n').manifest.build.nodeVersion).toBe(24);
    expect(errorPaths("build:\n  node_version: 18\n")).toEqual(["build.node_version"]);
    expect(errorPaths("build:\n  node_version: 20.5\n")).toEqual(["build.node_version"]);
  });

  it("base_image", () => {
    expect(ok("build:\n  base_image: kiln-test/node:latest\n").manifest.build.baseImage).toBe(
      "kiln-test/node:latest",
    );
    expect(
      ok("build:\n  base_image: localhost:5001/base@sha256:" + "a".repeat(64) + "\n").manifest.build
        .baseImage,
    ).toContain("@sha256:");
    expect(errorPaths('build:\n  base_image: "not an image"\n')).toEqual(["build.base_image"]);
  });

  it("build.environment", () => {
    expect(
      ok("build:\n  environment:\n    - PIP_INDEX_URL=http://127.0.0.1/simple\n").manifest.build.environment,
    ).toEqual({ PIP_INDEX_URL: "http://127.0.0.1/simple" });
    expect(errorPaths("build:\n  environment:\n    - PYTHONPATH=/x\n")).toEqual(["build.environment[0]"]);
  });

  it("python_overrides", () => {
    expect(
      ok("build:\n  python_overrides: overrides.txt\n", { "overrides.txt": "x==1\n" }).manifest.build
        .pythonOverrides,
    ).toBe("overrides.txt");
    expect(errorPaths("build:\n  python_overrides: overrides.txt\n")).toEqual(["build.python_overrides"]);
  });

  it("fast and cog_runtime are accepted with a warning", () => {
    const { warnings } = ok("build:\n  fast: true\n  cog_runtime: false\n");
    expect(warnings.map((w) => w.path)).toEqual(["build.fast", "build.cog_runtime"]);
    expect(errorPaths("build:\n  fast: yes please\n")).toEqual(["build.fast"]);
  });

  it("build must be a mapping", () => {
    expect(errorPaths("build: true\n")).toEqual(["build"]);
  });
});

describe("top-level keys", () => {
  it("predict in every language", () => {
    const files = {
      "a.mts": "export async function run() {}\n",
      "b.js": "exports.handler = () => 1;\n",
      "c.mjs": "const p = {};\nexport { p as predictor };\n",
      "d.ts": "export default { predict() {} };\n",
    };
    expect(
      ok('build:\n  python_version: "3.12"\npredict: "predict.py:Predictor"\n').manifest.predict?.language,
    ).toBe("python");
    expect(ok('predict: "a.mts:run"\n', files).manifest.predict).toMatchObject({
      file: "a.mts",
      name: "run",
      language: "typescript",
    });
    expect(ok('predict: "b.js:handler"\n', files).manifest.predict).toMatchObject({ language: "javascript" });
    expect(ok('predict: "./c.mjs:predictor"\n', files).manifest.predict).toMatchObject({
      file: "c.mjs",
      name: "predictor",
    });
    expect(ok('predict: "d.ts:default"\n', files).manifest.predict?.name).toBe("default");
    expect(errorPaths('predict: "predict.ts:nope"\n')).toEqual(["predict"]);
    expect(errorPaths("predict: 42\n")).toEqual(["predict"]);
  });

  it("python predictors found through imports and assignments", () => {
    const files = {
      "p.py": "from .model import (\n    Alpha,\n    Beta as Predictor,\n)\nrunner = Alpha()\n",
    };
    expect(
      ok('build:\n  python_version: "3.11"\npredict: "p.py:Predictor"\n', files).manifest.predict?.name,
    ).toBe("Predictor");
    expect(
      ok('build:\n  python_version: "3.11"\npredict: "p.py:runner"\n', files).manifest.predict?.name,
    ).toBe("runner");
  });

  it("a predictor imported on one line, followed by other code, is found", () => {
    const files = { "p.py": "from model import Predictor  # the real one\nimport os\nx = os.getcwd()\n" };
    expect(
      ok('build:\n  python_version: "3.11"\npredict: "p.py:Predictor"\n', files).manifest.predict?.name,
    ).toBe("Predictor");
    expect(errorPaths('build:\n  python_version: "3.11"\npredict: "p.py:os"\n', files)).toEqual(["predict"]);
    // A star import could define anything: no verdict.
    expect(
      ok('build:\n  python_version: "3.11"\npredict: "q.py:Anything"\n', { "q.py": "from model import *\n" })
        .manifest.predict?.name,
    ).toBe("Anything");
  });

  it("run is an alias of predict", () => {
    expect(ok('run: "predict.ts:predictor"\n').manifest.predict?.name).toBe("predictor");
  });

  it("train", () => {
    const files = { "train.py": "def train(x: int) -> int:\n    return x\n" };
    const { manifest } = ok('build:\n  python_version: "3.12"\ntrain: "train.py:train"\n', files);
    expect(manifest.train).toEqual({
      raw: "train.py:train",
      file: "train.py",
      name: "train",
      language: "python",
    });
    expect(errorPaths('train: "train.py:train"\n', files)).toEqual(["build.python_version"]);
    expect(errorPaths('build:\n  python_version: "3.12"\ntrain: "train.py:Trainer"\n', files)).toEqual([
      "train",
    ]);
  });

  it("image", () => {
    const { manifest } = ok("image: registry.example.com:5000/me/my-model:v1\n");
    expect(manifest.image).toBe("registry.example.com:5000/me/my-model:v1");
    expect(manifest.imageExplicit).toBe(true);
    expect(errorPaths("image: 12\n")).toEqual(["image"]);
    expect(errorPaths('image: "-bad"\n')).toEqual(["image"]);
  });

  it("concurrency", () => {
    expect(ok("concurrency:\n  max: 8\n").manifest.concurrency).toEqual({ max: 8 });
    expect(ok("concurrency:\n  max: 2\n  default_target: 1\n").manifest.concurrency).toEqual({ max: 2 });
    expect(errorPaths('concurrency:\n  max: "8"\n')).toEqual(["concurrency.max"]);
    expect(errorPaths("concurrency: 8\n")).toEqual(["concurrency"]);
  });

  it("environment keeps the written order", () => {
    const { manifest } = ok("environment:\n  - B=2\n  - A=x=y\n  - EMPTY=\n");
    expect(Object.entries(manifest.environment)).toEqual([
      ["B", "2"],
      ["A", "x=y"],
      ["EMPTY", ""],
    ]);
  });

  // Cog's deny list, exactly (plus kiln's own KILN_*).
  it.each([
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONUNBUFFERED",
    "R8_MODEL",
    "REPLICATE_API_TOKEN",
    "LIBRARY_PATH",
    "CUDA_HOME",
    "NVIDIA_VISIBLE_DEVICES",
    "NV_CUDA_LIB_VERSION",
    "PGET_CONCURRENCY",
    "HF_ENDPOINT",
    "HF_HUB_ENABLE_HF_TRANSFER",
    "KUBERNETES_SERVICE_HOST",
    "KILN_ROOT",
  ])("environment rejects reserved %s", (name) => {
    expect(errorPaths(`environment:\n  - ${name}=x\n`)).toEqual(["environment[0]"]);
  });

  it("environment may set what Cog allows: COG_* runtime settings, HOME, PORT, HF_HOME", () => {
    const { manifest, warnings } = ok(
      "environment:\n  - COG_SETUP_TIMEOUT=30\n  - COG_WEIGHTS=/src/w\n  - HOME=/root\n  - PORT=5001\n  - HF_HOME=/src/.hf\n",
    );
    expect(manifest.environment.COG_SETUP_TIMEOUT).toBe("30");
    expect(warnings).toEqual([]);
    expect(ok("environment:\n  - COG_SOMETHING=1\n").warnings.map((w) => w.message)).toEqual([
      "COG_SOMETHING is passed to the model, but kiln's runtime does not act on it",
    ]);
    expect(errorPaths("environment:\n  - COG_SETUP_TIMEOUT=soon\n")).toEqual(["environment[0]"]);
  });

  it("weights: paths, globs and Cog {source, target}", () => {
    const { manifest, warnings } = ok(
      "weights:\n  - weights/\n  - '*.safetensors'\n  - source: ckpt\n    target: /src/ckpt\n",
      { "weights/a.bin": "x", ckpt: "y" },
    );
    expect(manifest.weights).toEqual(["weights/", "*.safetensors", "ckpt"]);
    expect(manifest.weightTargets).toEqual({ ckpt: "/src/ckpt" });
    expect(warnings).toEqual([]);
    expect(ok("weights:\n  - later.bin\n").warnings.map((w) => w.path)).toEqual(["weights[0]"]);
    expect(errorPaths("weights:\n  - ../up\n")).toEqual(["weights[0]"]);
    expect(errorPaths("weights:\n  - {target: x}\n")).toEqual(["weights[0]"]);
  });

  it("tests (Cog) is accepted with a warning", () => {
    expect(ok("tests:\n  - inputs: {x: 1}\n").warnings.map((w) => w.path)).toEqual(["tests"]);
  });
});

describe("Cog manifests as people write them", () => {
  it("a typical GPU manifest with python_packages and run commands is valid, with one deprecation warning", () => {
    const yaml = [
      "# Configuration for Cog",
      "build:",
      "  # set to true if your model requires a GPU",
      "  gpu: true",
      '  cuda: "11.8"',
      "  system_packages:",
      '    - "libgl1-mesa-glx"',
      '    - "libglib2.0-0"',
      '  python_version: "3.11"',
      "  python_packages:",
      '    - "torch==2.0.1"',
      '    - "transformers>=4.31.0"',
      "  # commands run after the environment is setup",
      "  run:",
      '    - curl -o /usr/local/bin/pget -L "https://example.com/pget" && chmod +x /usr/local/bin/pget',
      "# predict.py defines how predictions are run on your model",
      'predict: "predict.py:Predictor"',
      '# train: "train.py:train"',
      "",
    ].join("\n");
    const { manifest, warnings } = ok(yaml);
    expect(warnings.map((w) => w.message)).toEqual(["python_packages is deprecated"]);
    expect(manifest.build).toMatchObject({
      gpu: true,
      cuda: "11.8",
      pythonVersion: "3.11",
      systemPackages: ["libgl1-mesa-glx", "libglib2.0-0"],
      pythonPackages: ["torch==2.0.1", "transformers>=4.31.0"],
    });
    expect(manifest.build.run).toHaveLength(1);
  });

  it("a manifest with a requirements file, patch Python version, concurrency and environment is valid", () => {
    const yaml =
      'build:\n  gpu: true\n  python_version: "3.11.1"\n  python_requirements: "requirements.txt"\npredict: "predict.py:Predictor"\nconcurrency:\n  max: 32\nenvironment:\n  - HF_HUB_OFFLINE=1\nimage: "r8.im/someone/some-model"\n';
    const { manifest, warnings } = ok(yaml);
    expect(warnings).toEqual([]);
    expect(manifest).toMatchObject({
      image: "r8.im/someone/some-model",
      concurrency: { max: 32 },
      environment: { HF_HUB_OFFLINE: "1" },
    });
  });
});
