/** Problems found after parsing are positioned by the manifest's own lookup, like the parser's. */
import { describe, expect, it } from "vitest";
import { EXIT_CODES, ManifestError } from "../../src/errors.js";
import { problemAt, requireEntryPoint, requirePredictor } from "../../src/manifest/positions.js";
import type { ResolvedManifest } from "../../src/manifest/types.js";
import { parseIn } from "./helpers.js";

function parsed(yaml: string): ResolvedManifest {
  const result = parseIn(yaml);
  if (!result.manifest) throw new Error(JSON.stringify(result.problems));
  return result.manifest;
}

describe("manifest positions", () => {
  it("points at the key or the value of a written entry", () => {
    const m = parsed('build:\n  gpu: true\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n');
    expect(problemAt(m, ["build", "python_version"], "x", { at: "key" })).toMatchObject({
      file: "cog.yaml",
      line: 3,
      column: 3,
      path: "build.python_version",
    });
    expect(problemAt(m, ["build", "python_version"], "x")).toMatchObject({ line: 3, column: 19 });
  });

  it("a missing key points at its nearest written ancestor", () => {
    const m = parsed('build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n');
    expect(problemAt(m, ["build", "cuda"], "x", { at: "key" })).toMatchObject({
      line: 1,
      path: "build.cuda",
    });
  });

  it("no predict: is a manifest problem (exit 3) for the commands that run one", () => {
    const m = parsed('build:\n  python_version: "3.11"\ntrain: "predict.py:Predictor"\n');
    expect(() => requireEntryPoint(m)).not.toThrow();
    let error: unknown;
    try {
      requirePredictor(m);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).exitCode).toBe(EXIT_CODES.manifest);
    expect((error as ManifestError).details[0]).toMatch(/^cog\.yaml:1:1 predict: no `predict:` entry/);
  });

  // Which entry points each need accepts: predictions need `predict:`; build and serve (and train, whose
  // own rule asks for `train:`) take either, so a train-only project builds, serves and trains.
  const ENTRIES = {
    both: 'predict: "predict.py:Predictor"\ntrain: "predict.py:Predictor"\n',
    "predict only": 'predict: "predict.py:Predictor"\n',
    "train only": 'train: "predict.py:Predictor"\n',
    neither: "",
  } as const;
  const expected: Record<keyof typeof ENTRIES, [predict: boolean, build: boolean, run: boolean]> = {
    both: [true, true, true],
    "predict only": [true, true, true],
    "train only": [false, true, true],
    neither: [false, false, false],
  };
  const passes = (check: () => void): boolean => {
    try {
      check();
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      expect((err as ManifestError).exitCode).toBe(EXIT_CODES.manifest);
      return false;
    }
  };
  it.each(Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])("entry points: %s", (name) => {
    const m = parsed(`build:\n  python_version: "3.11"\n${ENTRIES[name]}`);
    expect([
      passes(() => requirePredictor(m)),
      passes(() => requireEntryPoint(m, "build")),
      passes(() => requireEntryPoint(m, "run")),
    ]).toEqual(expected[name]);
  });

  it("predict on a train-only project points at kiln train; nothing at all says what is missing", () => {
    const trainOnly = parsed('build:\n  python_version: "3.11"\ntrain: "predict.py:Predictor"\n');
    expect(() => requirePredictor(trainOnly)).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({
            hint: expect.stringMatching(/only trains .*`kiln train -i name=value`/),
          }),
        ],
      }),
    );
    const empty = parsed('build:\n  python_version: "3.11"\n');
    expect(() => requireEntryPoint(empty, "run")).toThrow(
      expect.objectContaining({
        details: [expect.stringMatching(/neither `predict:` nor `train:` is set: there is nothing to run/)],
      }),
    );
  });

  it("a manifest built in memory still gets a file and line 1", () => {
    const m = { ...parsed('build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n') };
    expect(problemAt(m, ["build"], "x")).toMatchObject({ file: m.file, line: 1, column: 1 });
  });
});
