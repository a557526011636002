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

  it("a manifest built in memory still gets a file and line 1", () => {
    const m = { ...parsed('build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n') };
    expect(problemAt(m, ["build"], "x")).toMatchObject({ file: m.file, line: 1, column: 1 });
  });
});
