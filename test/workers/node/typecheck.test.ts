import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { typecheckTsPredictor } from "../../../src/build/ts-typecheck.js";

const REPO = resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const ref = {
  raw: "predict.ts:predictor",
  file: "predict.ts",
  name: "predictor",
  language: "typescript" as const,
};

function project(predict: string): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-tc-"));
  dirs.push(root);
  writeFileSync(join(root, "predict.ts"), predict);
  return root;
}

describe("typecheckTsPredictor", () => {
  it("passes examples/hello-ts", async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-tc-hello-"));
    dirs.push(root);
    cpSync(join(REPO, "examples/hello-ts"), root, { recursive: true });
    expect(await typecheckTsPredictor(root, ref)).toEqual({ checked: true, problems: [] });
  }, 120_000);

  it("reports type errors with file:line:col, using the SDK's types for inputs and output", async () => {
    const root = project(
      [
        'import { definePredictor, z } from "kiln";',
        "export const predictor = definePredictor({",
        "  inputs: { n: z.int() },",
        "  output: z.string(),",
        "  predict: ({ n }) => n.toUpperCase(),",
        "});",
        "",
      ].join("\n"),
    );
    const result = await typecheckTsPredictor(root, ref);
    expect(result.checked).toBe(true);
    expect(result.problems).toEqual([
      expect.stringMatching(/^predict\.ts:5:25: Property 'toUpperCase' does not exist on type 'number'/),
    ]);
  }, 120_000);

  it("does not check other languages", async () => {
    const result = await typecheckTsPredictor(REPO, { ...ref, file: "predict.py", language: "python" });
    expect(result).toEqual({ checked: false, reason: "predict.py is not TypeScript", problems: [] });
  });
});
