/**
 * The same predictor signature written in TypeScript (golden/parity_predict.ts) and in Python
 * (golden/parity_predict.py) must give byte-identical OpenAPI documents. Both sides run for real:
 * the compiled TS predictor in the node worker and the .py file in the Python worker, each with
 * `--schema-only` (the `loaded` message a server receives at start-up).
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import type { LoadedMessage } from "../../src/runtime/protocol.js";
import { buildOpenApi } from "../../src/schema/openapi.js";
import { startWorker } from "../workers/node/harness.js";
import { schemaOnly } from "../workers/python/harness.js";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "kiln-parity-"));
  cpSync(join(import.meta.dirname, "golden"), root, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function nodeSchema(): Promise<LoadedMessage["schema"]> {
  const { outFile } = await compileTsPredictor(root, {
    raw: "parity_predict.ts:predictor",
    file: "parity_predict.ts",
    name: "predictor",
    language: "typescript",
  });
  const w = await startWorker([
    "--predictor",
    `${relative(root, outFile)}:predictor`,
    "--root",
    root,
    "--schema-only",
  ]);
  const code = await w.exited;
  expect(code, w.stderr.join("")).toBe(0);
  return (JSON.parse(w.stdout.join("")) as LoadedMessage).schema;
}

async function pythonSchema(): Promise<LoadedMessage["schema"]> {
  const r = await schemaOnly({ root, predictor: "parity_predict.py:Predictor" });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as LoadedMessage).schema;
}

describe("TypeScript and Python predictors", () => {
  it("produce byte-identical OpenAPI documents for the same signature (both workers run)", async () => {
    const [ts, python] = await Promise.all([nodeSchema(), pythonSchema()]);
    const opts = { kilnVersion: "0.0.0" };
    const tsDoc = JSON.stringify(buildOpenApi(ts, opts), null, 1);
    expect(tsDoc).toContain('"api_key"');
    expect(tsDoc).toBe(JSON.stringify(buildOpenApi(python, opts), null, 1));
  });
});
