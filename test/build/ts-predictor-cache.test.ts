/**
 * The TS predictor compile is cached by content: an unchanged project reuses its bundle without
 * esbuild, and without reading inputs whose size and mtime are as recorded; a changed file recompiles.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import type { PredictorRef } from "../../src/manifest/types.js";

const ref: PredictorRef = {
  raw: "predict.ts:predictor",
  file: "predict.ts",
  name: "predictor",
  language: "typescript",
};
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PREDICT =
  'import { definePredictor, z } from "kiln-ml";\nimport { word } from "./word.js";\n' +
  "export const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => word });\n";

/** A project whose files were last changed an hour ago (settled: their stat is trusted). */
function project(word: string): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-compile-cache-"));
  dirs.push(root);
  writeFileSync(join(root, "predict.ts"), PREDICT);
  writeFileSync(join(root, "word.ts"), `export const word = ${JSON.stringify(word)};\n`);
  for (const f of ["predict.ts", "word.ts"]) settle(join(root, f));
  return root;
}

const anHourAgo = (): Date => new Date(Date.now() - 3600_000);
function settle(file: string, when = anHourAgo()): void {
  utimesSync(file, when, when);
}
const bundleStamp = (out: string): bigint => statSync(out, { bigint: true }).mtimeNs;

describe("compileTsPredictor's cache", () => {
  it("reuses the bundle of an unchanged project, and recompiles when a file's content changes", async () => {
    const root = project("alpha");
    const { outFile } = await compileTsPredictor(root, ref);
    expect(readFileSync(outFile, "utf8")).toContain('"alpha"');
    const stamp = bundleStamp(outFile);
    expect((await compileTsPredictor(root, ref)).outFile).toBe(outFile);
    expect(bundleStamp(outFile)).toBe(stamp); // not rewritten

    writeFileSync(join(root, "word.ts"), 'export const word = "beta, longer";\n');
    await compileTsPredictor(root, ref);
    expect(readFileSync(outFile, "utf8")).toContain('"beta, longer"');
    expect(bundleStamp(outFile)).not.toBe(stamp);
  });

  it("a touched file whose content is the same keeps the bundle", async () => {
    const root = project("gamma");
    const { outFile } = await compileTsPredictor(root, ref);
    const stamp = bundleStamp(outFile);
    settle(join(root, "word.ts"), new Date(Date.now() - 60_000)); // a new mtime, the same bytes
    await compileTsPredictor(root, ref);
    expect(bundleStamp(outFile)).toBe(stamp);
    expect(readFileSync(outFile, "utf8")).toContain('"gamma"');
  });

  it("a settled input whose size and mtime are as recorded is not read again", async () => {
    const root = project("delta");
    const { outFile } = await compileTsPredictor(root, ref);
    const stamp = bundleStamp(outFile);
    // Same size, other bytes, and the recorded mtime put back: only reading the file could tell.
    const file = join(root, "word.ts");
    const before = statSync(file);
    writeFileSync(file, 'export const word = "DELTA";\n');
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    await compileTsPredictor(root, ref);
    expect(bundleStamp(outFile)).toBe(stamp);
    // Once the mtime moves, the content is hashed and the change is seen.
    settle(file, new Date(Date.now() - 30_000));
    await compileTsPredictor(root, ref);
    expect(readFileSync(outFile, "utf8")).toContain('"DELTA"');
  });
});
