/**
 * A train-only model (cog.yaml `train:` without `predict:`, as Cog's training docs lay one out) served
 * with a trainer and no predictor: /trainings and /v1/trainings work, /predictions and /v1/predictions
 * answer 404 saying why, /openapi.json has the training paths only, /health-check is READY once the
 * trainer's setup ran. TS (defineTrainer) and Python (a Cog class trainer) workers.
 */
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configFromEnv, ConfigError } from "../../src/runtime/config.js";
import { startServer, type RunningServer } from "../../src/runtime/server.js";
import { workerCommand } from "../../src/runtime/worker-command.js";
import { fixtureServers, request } from "./helpers.js";

const PY_ROOT = fileURLToPath(new URL("../fixtures/train-only/", import.meta.url));
const { start, track } = fixtureServers();

const decode = (uri: string): string =>
  Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8");

/** What every train-only server must answer, whichever worker runs the trainer. */
async function expectTrainOnlyRoutes(s: RunningServer): Promise<void> {
  const health = await request(s.url, "/health-check");
  expect(health.body).toMatchObject({ status: "READY", setup: { status: "succeeded" } });

  const doc = (await request(s.url, "/openapi.json")).body;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(["/trainings", "/trainings/{training_id}", "/trainings/{training_id}/cancel"]),
  );
  expect(Object.keys(doc.paths).filter((p) => p.startsWith("/predictions"))).toEqual([]);
  expect(doc.components.schemas.Input).toBeUndefined();
  expect(doc.components.schemas.PredictionRequest).toBeUndefined();
  expect(doc.components.schemas.TrainingInput).toMatchObject({ type: "object" });

  const root = (await request(s.url, "/")).body;
  expect(root.trainings_url).toBe("/trainings");
  expect(root.predictions_url).toBeUndefined();

  for (const [method, path] of [
    ["POST", "/predictions"],
    ["PUT", "/predictions/p1"],
    ["POST", "/predictions/p1/cancel"],
  ] as const) {
    const r = await request(s.url, path, { method, body: { input: {} } });
    expect(r.status, `${method} ${path}`).toBe(404);
    expect(r.body.detail).toMatch(/this model has no predict: entry/);
  }
  const v1 = await request(s.url, "/v1/predictions", { body: { version: s.hosted.version, input: {} } });
  expect(v1.status).toBe(404);
  expect(v1.body.detail).toMatch(/has no predict: entry \(it only trains\)/);
}

describe("a TS trainer with no predictor", () => {
  it("serves /trainings and /v1/trainings; predictions answer 404", async () => {
    const s = await start("unused", {
      predictor: undefined,
      train: { language: "node", file: "", name: "loraTrainer" },
      throttleMs: 0,
    });
    await expectTrainOnlyRoutes(s);
    const r = await request(s.url, "/trainings", { body: { input: { text: "owl", steps: 2 } } });
    expect(r.body).toMatchObject({ status: "succeeded", logs: "step 1/2\nstep 2/2\n" });
    expect(decode(r.body.output.weights)).toBe("lora:owlx2");

    const created = await request(s.url, `/v1/models/kiln/x/versions/${s.hosted.version}/trainings`, {
      body: { destination: "me/x-tuned", input: { text: "cat", steps: 1 } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: s.hosted.version, destination: "me/x-tuned" });
  });
});

describe("a Python trainer with no predictor", () => {
  async function startPython(name: string): Promise<RunningServer> {
    const s = track(
      await startServer({
        root: PY_ROOT,
        train: { language: "python", file: name.split(":")[0]!, name: name.split(":")[1]! },
        host: "127.0.0.1",
        port: 0,
        logLevel: "silent",
        throttleMs: 0,
      }),
    );
    await s.ready;
    return s;
  }

  it("a class trainer: setup() runs before /health-check says READY, then trains", async () => {
    const s = await startPython("trainer_class.py:Trainer");
    await expectTrainOnlyRoutes(s);
    const r = await request(s.url, "/trainings", { body: { input: { name: "owl" } } });
    expect(r.body.status, r.text).toBe("succeeded");
    // The weights carry what setup() stored: the trainer's setup ran once, before training.
    expect(JSON.parse(decode(r.body.output.weights))).toEqual({ loaded: true, name: "owl" });
  });

  it("Cog's documented function trainer (train.py:train) trains over /v1/trainings", async () => {
    const s = await startPython("train.py:train");
    await expectTrainOnlyRoutes(s);
    const data = readFileSync(new URL("../fixtures/train-only/data.txt", import.meta.url));
    const created = await request(s.url, `/v1/models/kiln/x/versions/${s.hosted.version}/trainings`, {
      headers: { prefer: "wait" },
      body: {
        destination: "me/words",
        input: { train_data: `data:text/plain;base64,${data.toString("base64")}`, learning_rate: 1, seed: 7 },
      },
    });
    expect(created.status, created.text).toBe(201);
    let training = created.body;
    for (let i = 0; training.status !== "succeeded" && training.status !== "failed" && i < 200; i++)
      training = (await request(s.url, `/v1/trainings/${training.id}`)).body;
    expect(training.status, JSON.stringify(training)).toBe("succeeded");
    const weights = await fetch(training.output.weights);
    expect(JSON.parse(await weights.text())).toEqual({
      seed: 7,
      weights: { and: 2, cat: 1, owl: 2, the: 3 },
    });
  });
});

describe("the image's configuration without a predictor", () => {
  it("KILN_TRAIN alone starts a train-only server; neither is a ConfigError", () => {
    const options = configFromEnv([], { KILN_TRAIN: "train.py:train" });
    expect(options.predictor).toBeUndefined();
    expect(options.train).toEqual({ language: "python", file: "train.py", name: "train" });
    const command = workerCommand({ ...options, root: PY_ROOT });
    expect(command.args).not.toContain("--predictor");
    expect(command.args).toEqual(expect.arrayContaining(["--train", "train.py:train"]));
    expect(() => configFromEnv([], {})).toThrow(ConfigError);
    expect(() => configFromEnv([], {})).toThrow(/neither KILN_PREDICTOR nor KILN_TRAIN is set/);
  });
});
