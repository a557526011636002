/**
 * Predictors that cannot load: the worker reports setup_failed naming file, line and cause (server), and
 * --schema-only prints the same message and exits 1 (build time).
 */
import { afterEach, describe, expect, test } from "vitest";
import { PythonWorker, schemaOnly } from "./harness.js";

const workers: PythonWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

const cases: { name: string; expected: RegExp }[] = [
  {
    name: "missing-module",
    expected:
      /^predict\.py:2: ModuleNotFoundError: No module named 'torch_that_is_not_installed'\. .*pip install -r requirements\.txt.*`kiln predict`/,
  },
  {
    name: "syntax-error",
    expected:
      /^predict\.py:5: SyntaxError: expected ':' \(def predict\(self, text: str = Input\(description="Text"\)\) -> str\)$/,
  },
  {
    name: "wrong-class",
    expected:
      /^predict\.py: does not define 'Predictor' \(cog\.yaml predict: "predict\.py:Predictor"\)\. predict\.py defines: helper \(function\), Model \(class\)$/,
  },
  {
    name: "unsupported-annotation",
    expected:
      /^predict\.py:5: Predictor\.predict\(\): input 'ids': unsupported type set\[int\] \(inputs may be str, int/,
  },
  {
    name: "bad-default",
    expected: /^predict\.py:5: Predictor\.predict\(\): input 'steps': default 50 is invalid: must be <= 10$/,
  },
];

describe("predictors that fail to load", () => {
  test.each(cases)("$name: setup_failed names the file, line and cause", async ({ name, expected }) => {
    const w = new PythonWorker({ root: name });
    workers.push(w);
    const failed = await w.waitType("setup_failed");
    expect(failed.error).toMatch(expected);
    expect(w.messages.some((m) => m.type === "loaded")).toBe(false);
    // the worker stays up so the server can report SETUP_FAILED, and refuses predictions
    w.send({ type: "setup", weights: null });
    const p = await w.predict("p", { text: "x" });
    expect(p.terminal).toMatchObject({ type: "failed", error: `setup failed: ${failed.error}` });
    expect(w.messages.filter((m) => m.type === "setup_failed")).toHaveLength(1);
    w.send({ type: "shutdown" });
    expect((await w.exited).code).toBe(0);
  });

  test.each(cases)("$name: --schema-only exits 1 with the same message", async ({ name, expected }) => {
    const result = await schemaOnly({ root: name });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim()).toMatch(expected);
  });

  test("a missing predictor file and a bad reference are explained", async () => {
    const missing = await schemaOnly({ root: "hello", predictor: "nope.py:Predictor" });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope.py: file not found");
    const bad = await schemaOnly({ root: "hello", predictor: "predict.py" });
    expect(bad.stderr).toContain("must look like 'predict.py:Predictor'");
  });

  test("importing a name kiln's cog does not provide says so", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = mkdtempSync(path.join(tmpdir(), "kiln-py-load-"));
    writeFileSync(path.join(dir, "predict.py"), "from cog import Predictor\n");
    const result = await schemaOnly({ root: dir });
    expect(result.stderr).toMatch(/^predict\.py:1: ImportError: cannot import name 'Predictor' from 'cog'/);
    expect(result.stderr).toContain("kiln's cog package does not provide this name");
  });
});
