/** The exact text users see for manifest mistakes: every message is part of kiln's interface. */
import { describe, expect, it } from "vitest";
import { problemsText } from "./helpers.js";

const PY = 'build:\n  python_version: "3.12"\npredict: "predict.py:Predictor"\n';

describe("manifest error messages", () => {
  it("unquoted python_version 3.10 explains that YAML reads it as 3.1", () => {
    expect(problemsText("build:\n  python_version: 3.10\npredict: predict.py:Predictor\n"))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:19 build.python_version: found 3.10 without quotes, which YAML reads as the number 3.1
          hint: quote it: python_version: "3.10""
    `);
  });

  it("unsupported python version", () => {
    expect(problemsText('build:\n  python_version: "3.14"\npredict: predict.py:Predictor\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:19 build.python_version: Python 3.14 is not supported; expected 3.10 to 3.13
          hint: use python_version: "3.12""
    `);
  });

  it("python below 3.10 names the last Cog version that accepted it and what to change", () => {
    expect(problemsText('build:\n  python_version: "3.8"\npredict: predict.py:Predictor\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:19 build.python_version: Python 3.8 is no longer supported: Cog 0.16 was the last Cog version that accepted it; Cog 0.17+ and kiln need 3.10 or newer
          hint: set python_version: "3.10" (or newer) and make sure your pinned packages have wheels for it (torch>=1.11, tensorflow>=2.8, numpy>=1.21.3)"
    `);
  });

  it("malformed python version", () => {
    expect(problemsText('build:\n  python_version: "latest"\npredict: predict.py:Predictor\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:19 build.python_version: expected a Python version such as "3.12", found the string "latest"
          hint: supported versions: 3.10, 3.11, 3.12, 3.13"
    `);
  });

  it("python_version of the wrong type", () => {
    expect(problemsText("build:\n  python_version: [3, 12]\n")).toMatchInlineSnapshot(
      `"cog.yaml:2:19 build.python_version: expected a quoted Python version such as "3.12", found a list of 2 items"`,
    );
  });

  it("missing python_version for a Python predictor", () => {
    expect(problemsText("build:\n  gpu: false\npredict: predict.py:Predictor\n")).toMatchInlineSnapshot(`
      "cog.yaml:1:1 build.python_version: is missing; predict names a Python file, which needs it
          hint: add python_version: "3.12" under build:"
    `);
  });

  it("missing python_version without a build section points at predict", () => {
    expect(problemsText('image: my-model\npredict: "predict.py:Predictor"\n')).toMatchInlineSnapshot(`
      "cog.yaml:2:1 build.python_version: is missing; predict names a Python file, which needs it
          hint: add python_version: "3.12" under build:"
    `);
  });

  it("unknown top-level key suggests the closest", () => {
    expect(problemsText(`${PY}predcit: predict.py:Predictor\n`)).toMatchInlineSnapshot(`
      "cog.yaml:4:1 predcit: unknown key "predcit" at the top level
          hint: did you mean "predict"?"
    `);
  });

  it("unknown build key suggests the closest", () => {
    expect(problemsText('build:\n  python_verison: "3.12"\n  gpu: true\n')).toMatchInlineSnapshot(`
      "cog.yaml:2:3 build.python_verison: unknown key "python_verison" under build
          hint: did you mean "python_version"?"
    `);
  });

  it("build key at the top level says to move it under build", () => {
    expect(problemsText('python_version: "3.12"\npredict: predict.ts:predictor\n')).toMatchInlineSnapshot(`
      "cog.yaml:1:1 python_version: unknown key "python_version" at the top level
          hint: "python_version" belongs under build: — indent it below "build:""
    `);
  });

  it("top-level key inside build says to move it out", () => {
    expect(problemsText("build:\n  predict: predict.ts:predictor\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:3 build.predict: unknown key "predict" under build
          hint: "predict" is a top-level key — move it out of build: (no indentation)"
    `);
  });

  it("unknown key with no close match warns (a newer Cog's setting, perhaps) and lists the known keys", () => {
    expect(problemsText("concurrency:\n  workers: 3\n")).toMatchInlineSnapshot(`
      "warning: cog.yaml:2:3 concurrency.workers: unknown key "workers" under concurrency; kiln ignores it
          hint: known keys under concurrency: max, default_target"
    `);
  });

  it("predict file missing", () => {
    expect(problemsText('build:\n  python_version: "3.12"\npredict: "model.py:Predictor"\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:3:10 predict: model.py does not exist
          hint: create model.py next to cog.yaml, or fix the path (it is relative to the directory of cog.yaml)"
    `);
  });

  it("predict class not defined in the file", () => {
    expect(problemsText('build:\n  python_version: "3.12"\npredict: "predict.py:Predicter"\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:3:10 predict: predict.py has no class or function named Predicter
          hint: predict.py defines: Predictor, BasePredictor"
    `);
  });

  it("TypeScript export not defined in the file", () => {
    expect(problemsText('predict: "predict.ts:Predictor"\n')).toMatchInlineSnapshot(`
      "cog.yaml:1:10 predict: predict.ts has no export named Predictor
          hint: predict.ts defines: predictor"
    `);
  });

  it("predict without a name", () => {
    expect(problemsText('predict: "predict.py"\n')).toMatchInlineSnapshot(`
      "cog.yaml:1:10 predict: expected "file:Name", found "predict.py"
          hint: write it as "predict.py:Predictor""
    `);
  });

  it("predict with an unknown extension", () => {
    expect(problemsText('predict: "predict.rb:Predictor"\n')).toMatchInlineSnapshot(`
      "cog.yaml:1:10 predict: cannot tell the predictor's language from "predict.rb"
          hint: the file must end in .py (Python), .ts or .mts (TypeScript), .js or .mjs (JavaScript)"
    `);
  });

  it("predict outside the project", () => {
    expect(problemsText('predict: "../elsewhere/predict.ts:predictor"\n')).toMatchInlineSnapshot(`
      "cog.yaml:1:10 predict: "../elsewhere/predict.ts" is outside the project
          hint: use a path relative to the directory of cog.yaml, inside it"
    `);
  });

  it("predict and run both set", () => {
    expect(problemsText('predict: "predict.ts:predictor"\nrun: "predict.ts:predictor"\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:1 run: both predict and run are set; they are the same setting
          hint: keep one of them (predict is the usual name)"
    `);
  });

  it("gpu written as a string", () => {
    expect(problemsText('build:\n  gpu: "yes"\n')).toMatchInlineSnapshot(`
      "cog.yaml:2:8 build.gpu: expected true or false, found the string "yes"
          hint: write true or false without quotes"
    `);
  });

  it("system_packages written as one string", () => {
    expect(problemsText("build:\n  system_packages: ffmpeg\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:20 build.system_packages: expected a list of apt package names, found the string "ffmpeg"
          hint: write it as a list, one item per line starting with "- ""
    `);
  });

  it("several apt packages in one entry", () => {
    expect(problemsText('build:\n  system_packages:\n    - "ffmpeg libgl1"\n')).toMatchInlineSnapshot(`
      "cog.yaml:3:7 build.system_packages[0]: expected one apt package name, found "ffmpeg libgl1"
          hint: list each package on its own line"
    `);
  });

  it("python_requirements file missing", () => {
    expect(problemsText('build:\n  python_version: "3.12"\n  python_requirements: reqs/missing.txt\n'))
      .toMatchInlineSnapshot(`
      "cog.yaml:3:24 build.python_requirements: the requirements file reqs/missing.txt does not exist
          hint: create it, or fix the path (relative to the directory of cog.yaml)"
    `);
  });

  it("python_packages together with python_requirements", () => {
    expect(
      problemsText(
        'build:\n  python_version: "3.12"\n  python_requirements: requirements.txt\n  python_packages:\n    - torch==2.3.1\n',
      ),
    ).toMatchInlineSnapshot(`
      "cog.yaml:4:3 build.python_packages: python_packages and python_requirements are both set
          hint: move the packages into the requirements file and remove python_packages"
    `);
  });

  it("run item of the wrong shape", () => {
    expect(problemsText("build:\n  run:\n    - 42\n")).toMatchInlineSnapshot(
      `"cog.yaml:3:7 build.run[0]: expected a shell command string, or a mapping like {command: "...", mounts: [{type: secret, id: ..., target: ...}]}, found the number 42"`,
    );
  });

  it("build commands written as a top-level run list", () => {
    expect(problemsText("run:\n  - pip install torch\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:3 run: expected a predictor reference such as "predict.py:Predictor" or "predict.ts:predictor", found a list of 1 item
          hint: top-level run: names the predictor (like predict:); build commands go under build: as run:"
    `);
  });

  it("run mount of an unsupported type", () => {
    expect(
      problemsText(
        "build:\n  run:\n    - command: pip install private\n      mounts:\n        - type: cache\n          id: pip\n",
      ),
    ).toMatchInlineSnapshot(
      `"cog.yaml:5:17 build.run[0].mounts[0].type: expected the string "secret" (the only mount type kiln supports), found the string "cache""`,
    );
  });

  it("run mapping without command", () => {
    expect(problemsText("build:\n  run:\n    - mounts: []\n")).toMatchInlineSnapshot(
      `"cog.yaml:3:7 build.run[0]: missing key "command" (expected a shell command string)"`,
    );
  });

  it("reserved environment name", () => {
    expect(problemsText("environment:\n  - PATH=/opt/bin\n  - CUDA_VISIBLE_DEVICES=0\n"))
      .toMatchInlineSnapshot(`
      "cog.yaml:2:5 environment[0]: PATH is reserved and cannot be set in cog.yaml
          hint: install tools into /usr/local/bin with build.run instead of changing PATH
      cog.yaml:3:5 environment[1]: CUDA_VISIBLE_DEVICES is reserved and cannot be set in cog.yaml
          hint: set build.gpu / build.cuda instead"
    `);
  });

  it("environment entry without =", () => {
    expect(problemsText("environment:\n  - HF_HOME\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:5 environment[0]: expected NAME=value, found "HF_HOME"
          hint: write it as "HF_HOME=value""
    `);
  });

  it("environment written as a mapping", () => {
    expect(problemsText("environment:\n  HF_HOME: /src/.cache\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:3 environment: expected a list of NAME=value strings, found a mapping
          hint: write it as a list: "- NAME=value" per line"
    `);
  });

  it("environment name set twice", () => {
    expect(problemsText("environment:\n  - A=1\n  - A=2\n")).toMatchInlineSnapshot(`
      "cog.yaml:3:5 environment[1]: A is set twice (first at item 1)
          hint: keep one of them"
    `);
  });

  it("invalid environment name", () => {
    expect(problemsText("environment:\n  - 1ABC=x\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:5 environment[0]: "1ABC" is not a valid environment variable name
          hint: use letters, digits and _, not starting with a digit"
    `);
  });

  it("concurrency.max below 1", () => {
    expect(problemsText("concurrency:\n  max: 0\n")).toMatchInlineSnapshot(
      `"cog.yaml:2:8 concurrency.max: expected a whole number of at least 1, found the number 0"`,
    );
  });

  it("concurrency.max not a whole number", () => {
    expect(problemsText("concurrency:\n  max: 2.5\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:8 concurrency.max: expected a whole number of at least 1, found the number 2.5
          hint: use a whole number such as 4"
    `);
  });

  it("image name with capitals", () => {
    expect(problemsText("image: registry.example.com/Me/Model\n")).toMatchInlineSnapshot(`
      "cog.yaml:1:8 image: "registry.example.com/Me/Model" is not a valid image name
          hint: image names are lowercase: registry.example.com/me/model"
    `);
  });

  it("cuda that is not a version", () => {
    expect(problemsText("build:\n  gpu: true\n  cuda: twelve\n")).toMatchInlineSnapshot(
      `"cog.yaml:3:9 build.cuda: expected a version such as "12.1", found the string "twelve""`,
    );
  });

  it("node_version too old", () => {
    expect(problemsText("build:\n  node_version: 16\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:17 build.node_version: Node.js 16 is too old; expected 20 or newer
          hint: use node_version: 20"
    `);
  });

  it("node_version with a minor", () => {
    expect(problemsText('build:\n  node_version: "20.11"\n')).toMatchInlineSnapshot(`
      "cog.yaml:2:17 build.node_version: expected a Node.js major version such as 20, found the string "20.11"
          hint: give the major version only (kiln picks the latest release of it)"
    `);
  });

  it("weights outside the project", () => {
    expect(problemsText("weights:\n  - /data/model.bin\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:5 weights[0]: weights path "/data/model.bin" is outside the project
          hint: weights must live under the directory of cog.yaml"
    `);
  });

  it("top level is a list", () => {
    expect(problemsText("- build\n- predict\n")).toMatchInlineSnapshot(`
      "cog.yaml:1:1 expected a mapping of settings (build:, predict:, ...), found a list of 2 items
          hint: see \`kiln init\` for a starting point"
    `);
  });

  it("empty file", () => {
    expect(problemsText("# nothing here\n")).toMatchInlineSnapshot(`
      "cog.yaml:1:1 the file is empty
          hint: add at least a predictor, e.g. predict: "predict.py:Predictor" (or run \`kiln init\`)"
    `);
  });

  it("malformed YAML", () => {
    expect(problemsText("build:\n  gpu: true\n   python_version: '3.12'\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:8 invalid YAML: Nested mappings are not allowed in compact mappings
          hint: check the indentation and that every key ends with a colon
      cog.yaml:2:8 invalid YAML: Implicit keys need to be on a single line
          hint: check the indentation and that every key ends with a colon"
    `);
  });

  it("duplicate keys", () => {
    expect(problemsText("build:\n  gpu: true\n  gpu: false\n")).toMatchInlineSnapshot(`
      "cog.yaml:3:3 invalid YAML: duplicate key "gpu" (first at line 2)
          hint: each key may appear once per mapping; remove or merge the duplicate"
    `);
  });

  it("tab indentation", () => {
    expect(problemsText("build:\n\tgpu: true\n")).toMatchInlineSnapshot(`
      "cog.yaml:2:1 invalid YAML: Tabs are not allowed as indentation
          hint: indent with spaces, not tabs"
    `);
  });
});
