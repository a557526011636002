import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertPredictorTypes, typecheckTsPredictor } from "../../../src/build/ts-typecheck.js";
import { BuildError } from "../../../src/errors.js";
import type { ResolvedManifest } from "../../../src/manifest/types.js";

const REPO = resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const ref = {
  raw: "predict.ts:predictor",
  file: "predict.ts",
  name: "predictor",
  language: "typescript" as const,
};

/** A project whose node_modules (and so its `typescript`) is the repository's: kiln uses the project's compiler. */
function project(predict: string, withTypeScript = true): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-tc-"));
  dirs.push(root);
  writeFileSync(join(root, "predict.ts"), predict);
  if (withTypeScript) symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
  return root;
}

const TYPE_ERROR = [
  'import { definePredictor, z } from "kiln-ml";',
  "export const predictor = definePredictor({",
  "  inputs: { n: z.int() },",
  "  output: z.string(),",
  "  predict: ({ n }) => n.toUpperCase(),",
  "});",
  "",
].join("\n");
const FIXED = TYPE_ERROR.replace("n.toUpperCase()", "String(n)");

describe("typecheckTsPredictor", () => {
  it("passes examples/hello-ts", { tags: ["slow"], timeout: 120_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-tc-hello-"));
    dirs.push(root);
    cpSync(join(REPO, "examples/hello-ts"), root, { recursive: true });
    symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
    expect(await typecheckTsPredictor(root, ref, { cache: false })).toEqual({
      checked: true,
      problems: [],
    });
  });

  it(
    "reports type errors with file:line:col, using the SDK's types for inputs and output",
    { tags: ["slow"], timeout: 120_000 },
    async () => {
      const root = project(TYPE_ERROR);
      const result = await typecheckTsPredictor(root, ref);
      expect(result.checked).toBe(true);
      expect(result.problems).toEqual([
        expect.stringMatching(/^predict\.ts:5:25: Property 'toUpperCase' does not exist on type 'number'/),
      ]);
    },
  );

  it(
    "reuses a passing check until a file the compiler read changes",
    { tags: ["slow"], timeout: 120_000 },
    async () => {
      const root = project(FIXED);
      expect(await typecheckTsPredictor(root, ref)).toEqual({ checked: true, problems: [] });
      const cache = JSON.parse(readFileSync(join(root, ".kiln/typecheck.json"), "utf8")) as {
        inputs: Record<string, string>;
      };
      // Inputs are hashed by content: the predictor, the SDK's declarations and zod's.
      const inputs = Object.keys(cache.inputs);
      expect(inputs).toContain(join(root, "predict.ts"));
      expect(inputs.some((f) => f.includes("/zod/"))).toBe(true);
      expect(await typecheckTsPredictor(root, ref)).toEqual({ checked: true, cached: true, problems: [] });

      // Touched but identical: still a hit (contents are compared once size or mtime differ).
      utimesSync(join(root, "predict.ts"), new Date(), new Date(Date.now() + 5000));
      expect((await typecheckTsPredictor(root, ref)).cached).toBe(true);

      // Same size, different content: checked again (an unknown name is an error).
      const sameSize = FIXED.replace("String(n)", "Strung(n)");
      expect(sameSize.length).toBe(FIXED.length);
      writeFileSync(join(root, "predict.ts"), sameSize);
      const renamed = await typecheckTsPredictor(root, ref);
      expect(renamed.cached).toBeUndefined();
      expect(renamed.problems).toEqual([
        expect.stringMatching(/^predict\.ts:5:23: Cannot find name 'Strung'/),
      ]);

      writeFileSync(join(root, "predict.ts"), TYPE_ERROR);
      const again = await typecheckTsPredictor(root, ref);
      expect(again.cached).toBeUndefined();
      expect(again.problems).toHaveLength(1);
      // A failing check is not recorded: the next build checks again.
      expect((await typecheckTsPredictor(root, ref)).problems).toHaveLength(1);
    },
  );

  it("skips, and says why, when the project has no TypeScript", async () => {
    const root = project(FIXED, false);
    expect(await typecheckTsPredictor(root, ref)).toEqual({
      checked: false,
      reason: "TypeScript is not installed in this project (npm install --save-dev typescript)",
      problems: [],
    });
  });

  it("fails kiln build's check with predict.ts:LINE:COL and the compiler's message", async () => {
    const root = project(TYPE_ERROR);
    const manifest = { root, predict: ref } as unknown as ResolvedManifest;
    const err = (await assertPredictorTypes(manifest).catch((e: unknown) => e)) as BuildError;
    expect(err).toBeInstanceOf(BuildError);
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(
      /^type error: predict\.ts:5:25: Property 'toUpperCase' does not exist on type 'number'/,
    );
    expect(err.hint).toContain("--no-typecheck");
  }, 120_000);

  it('points an import of the old name "kiln" at the real package', async () => {
    const root = project(FIXED.replace('"kiln-ml"', '"kiln"'));
    const manifest = { root, predict: ref } as unknown as ResolvedManifest;
    const err = (await assertPredictorTypes(manifest).catch((e: unknown) => e)) as BuildError;
    expect(err.message).toMatch(/predict\.ts:1:\d+: Cannot find module 'kiln'/);
    expect(err.hint).toContain('from "kiln-ml"');
  }, 120_000);

  it("does not check other languages", async () => {
    const result = await typecheckTsPredictor(REPO, { ...ref, file: "predict.py", language: "python" });
    expect(result).toEqual({ checked: false, reason: "predict.py is not TypeScript", problems: [] });
  });
});
