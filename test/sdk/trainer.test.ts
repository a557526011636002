/**
 * defineTrainer / trainingOutput: Cog's `train:` semantics in the SDK. The TrainingOutput component a
 * TS trainer yields must be byte-identical to what a Python trainer returning Cog's
 * `TrainingOutput(weights=Path)` yields (both workers run, as in parity.test.ts).
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import type { LoadedMessage } from "../../src/runtime/protocol.js";
import { buildOpenApi } from "../../src/schema/openapi.js";
import { schemaView } from "../../src/schema/view.js";
import type { PredictorRuntime, RuntimePredictContext } from "../../src/sdk/contract.js";
import {
  defineTrainer,
  file,
  fileOutput,
  PredictorSchemaError,
  trainingOutput,
  z,
} from "../../src/sdk/index.js";
import { startWorker } from "../workers/node/harness.js";
import { schemaOnly } from "../workers/python/harness.js";

const runtimeOf = (p: object): PredictorRuntime =>
  (p as Record<symbol, PredictorRuntime>)[Symbol.for("kiln.predictor")]!;

const ctx: RuntimePredictContext = {
  id: "t1",
  signal: new AbortController().signal,
  context: {},
  log: () => undefined,
  recordMetric: () => undefined,
};

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "kiln-trainer-parity-"));
  cpSync(join(import.meta.dirname, "golden/trainer"), root, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function nodeSchema(): Promise<LoadedMessage["schema"]> {
  const ref = (name: string) => ({
    raw: `train_parity.ts:${name}`,
    file: "train_parity.ts",
    name,
    language: "typescript" as const,
  });
  const { outFile } = await compileTsPredictor(root, ref("predictor"));
  const target = relative(root, outFile);
  const w = await startWorker([
    "--predictor",
    `${target}:predictor`,
    "--train",
    `${target}:trainer`,
    "--root",
    root,
    "--schema-only",
  ]);
  expect(await w.exited, w.stderr.join("")).toBe(0);
  return (JSON.parse(w.stdout.join("")) as LoadedMessage).schema;
}

async function pythonSchema(train = "train_parity.py:train"): Promise<LoadedMessage["schema"]> {
  const r = await schemaOnly({ root, predictor: "train_parity.py:Predictor", train });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as LoadedMessage).schema;
}

describe("a TypeScript trainer and a Cog (Python) trainer", () => {
  it("produce byte-identical /openapi.json documents, TrainingInput and TrainingOutput included", async () => {
    const [ts, python] = await Promise.all([nodeSchema(), pythonSchema()]);
    const tsDoc = buildOpenApi(ts, { kilnVersion: "0.0.0" }) as {
      components: { schemas: Record<string, unknown> };
      paths: Record<string, unknown>;
    };
    expect(tsDoc.components.schemas["TrainingOutput"]).toEqual({
      type: "object",
      properties: { weights: { type: "string", format: "uri", title: "Weights" } },
      required: ["weights"],
      title: "TrainingOutput",
    });
    expect(Object.keys(tsDoc.paths)).toContain("/trainings");
    expect(JSON.stringify(tsDoc, null, 1)).toBe(
      JSON.stringify(buildOpenApi(python, { kilnVersion: "0.0.0" }), null, 1),
    );
    // cog.TrainingOutput itself (not a class of the trainer's own) gives the same document too.
    expect(
      JSON.stringify(
        buildOpenApi(await pythonSchema("train_cog_output.py:train"), { kilnVersion: "0.0.0" }),
        null,
        1,
      ),
    ).toBe(JSON.stringify(tsDoc, null, 1));
    // kiln train reads the same document: its inputs are the trainer's, not the predictor's.
    expect(schemaView(tsDoc, "train").fields.map((f) => f.name)).toEqual(["data", "epochs", "rate"]);
    expect(schemaView(tsDoc).fields.map((f) => f.name)).toEqual(["text"]);
  });
});

describe("defineTrainer", () => {
  it("runs `train` with typed input and encodes the weights path as a file", async () => {
    const trainer = defineTrainer({
      inputs: { data: file(), epochs: z.int().default(3) },
      train: ({ data, epochs }, tctx) => {
        const n: number = epochs;
        // @ts-expect-error epochs is a number
        const wrong: string = epochs;
        void wrong;
        tctx.log(`epochs ${n}`);
        return { weights: `${data}.trained` };
      },
    });
    const rt = runtimeOf(trainer);
    expect(rt.schema().output).toMatchObject({ required: ["weights"], title: "Output" });
    const result = await rt.run({ data: "/tmp/data.txt", epochs: null }, ctx);
    expect(result).toEqual({ kind: "value", value: { weights: "/tmp/data.txt.trained" } });
    if (result.kind !== "value") throw new Error("expected a value");
    expect(rt.encodeOutput(result.value)).toEqual({ weights: { $file: "/tmp/data.txt.trained" } });
  });

  it("takes extra output fields with trainingOutput(extra), weights first, and checks them at compile time", async () => {
    const trainer = defineTrainer({
      inputs: {},
      output: trainingOutput({ loss: z.number(), note: z.string().optional() }),
      train: () => ({ weights: fileOutput("/w.bin"), loss: 0.5 }),
    });
    expect(runtimeOf(trainer).schema().output).toEqual({
      type: "object",
      properties: {
        weights: { type: "string", format: "uri", title: "Weights" },
        loss: { type: "number", title: "Loss" },
        note: { type: "string", title: "Note", nullable: true },
      },
      required: ["weights", "loss"],
      title: "Output",
    });
    // @ts-expect-error loss is required
    defineTrainer({
      inputs: {},
      output: trainingOutput({ loss: z.number() }),
      train: () => ({ weights: "/w.bin" }),
    });
    // @ts-expect-error weights is required by the default TrainingOutput
    defineTrainer({
      inputs: {},
      train: () => ({ loss: 1 }),
    });
  });

  it("accepts any output (a bare file, as older Cog trainers return) and the earlier `predict` spelling", async () => {
    const bare = defineTrainer({ inputs: {}, output: file(), train: () => "/w.bin" });
    expect(runtimeOf(bare).schema().output).toEqual({ type: "string", format: "uri", title: "Output" });
    const legacy = defineTrainer({
      inputs: { steps: z.int() },
      output: z.string(),
      predict: (i) => `${i.steps}`,
    });
    expect(await runtimeOf(legacy).run({ steps: 2 }, ctx)).toEqual({ kind: "value", value: "2" });
  });

  it.each([
    [
      "`weights` given twice",
      () => trainingOutput({ weights: z.string() }),
      /`weights` is always the trained weights file/,
    ],
    [
      "no train function",
      () => defineTrainer({ inputs: {}, train: undefined as unknown as () => { weights: string } }),
      /`train` must be a function/,
    ],
  ])("refuses %s with a PredictorSchemaError", (_what, make, message) => {
    expect(make).toThrow(PredictorSchemaError);
    expect(make).toThrow(message);
  });
});
