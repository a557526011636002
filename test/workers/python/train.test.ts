/**
 * Cog-style trainers (`train:` in cog.yaml) through the real kiln server and the Python worker: a train()
 * function, a Trainer class with setup(), and one class with both predict() and train(); the container
 * API's /trainings routes as Cog clients use them (sync, async + webhooks, idempotent PUT, cancel).
 */
import * as path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { RunningServer, ServerOptions } from "../../../src/runtime/server.js";
import { startPythonServer } from "../../helpers/python-server.js";
import { eventually, startReceiver } from "../../runtime/helpers.js";
import { FIXTURES } from "./harness.js";

const servers: RunningServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(fixture: string, train: string | null, extra: Partial<ServerOptions> = {}) {
  const [file, name] = (train ?? ":").split(":") as [string, string];
  const server = await startPythonServer(
    path.join(FIXTURES, fixture),
    {},
    { train: train ? { language: "python", file, name } : undefined, throttleMs: 0, ...extra },
  );
  servers.push(server);
  expect(server.health.ready).toBe(true);
  return server;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function call(
  s: RunningServer,
  route: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(s.url + route, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const dataUri = (text: string) => `data:text/plain;base64,${Buffer.from(text).toString("base64")}`;
const decode = (uri: string) => Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8");

describe("a train() function (Cog's documented form)", () => {
  test("discovery, the TrainingInput/TrainingOutput schema and a sync training", async () => {
    const s = await serve("train", "train.py:train");
    const d = await call(s, "/");
    expect(d.body).toMatchObject({
      trainings_url: "/trainings",
      trainings_idempotent_url: "/trainings/{training_id}",
      trainings_cancel_url: "/trainings/{training_id}/cancel",
    });
    const doc = (await call(s, "/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/trainings", "/trainings/{training_id}", "/trainings/{training_id}/cancel"]),
    );
    expect(doc.components.schemas.TrainingInput.properties.epochs).toMatchObject({
      type: "integer",
      minimum: 1,
    });
    expect(doc.components.schemas.TrainingOutput).toMatchObject({
      type: "object",
      properties: { weights: { type: "string", format: "uri" } },
      required: ["weights"],
    });
    const r = await call(s, "/trainings", { body: { input: { data: dataUri("abcdef"), epochs: 3 } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "succeeded", error: null, logs: "trained 3 epochs\n" });
    expect(decode(r.body.output.weights)).toBe("3 epochs over 6 bytes");
    const bad = await call(s, "/trainings", { body: { input: { data: dataUri("x"), epochs: 0 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["body", "input", "epochs"]);
    // Predictions still reach the predictor
    expect((await call(s, "/predictions", { body: { input: { text: "q" } } })).body.output).toBe("q");
  });
});

describe("a Trainer class with setup() and cog.TrainingOutput", () => {
  test("setup runs once at start; trainings use its state; secrets stay masked", async () => {
    const s = await serve("train-class", "trainer.py:Trainer");
    const h = await call(s, "/health-check");
    expect(h.body.setup.logs).toContain("loading the base model");
    const r = await call(s, "/trainings", { body: { input: { text: "cats", steps: 2, token: "hf_abcd" } } });
    expect(r.body).toMatchObject({
      status: "succeeded",
      logs: "step 1/2\nstep 2/2\n",
      input: { text: "cats", steps: 2, token: "**********" },
    });
    expect(r.body.output.weights).toMatch(/^data:[^,]*;base64,/);
    expect(decode(r.body.output.weights)).toBe("base-v1+catsx2 token=7");
    const doc = (await call(s, "/openapi.json")).body;
    expect(doc.components.schemas.TrainingOutput.properties.weights).toMatchObject({ format: "uri" });
    expect(doc.components.schemas.TrainingInput.properties.token).toMatchObject({ format: "password" });
  });

  test("async with a filtered webhook; idempotent PUT; cancel reaches train()", async () => {
    const s = await serve("train-class", "trainer.py:Trainer");
    const hook = await startReceiver();
    closers.push(hook.close);
    const started = await call(s, "/trainings/tr-1", {
      method: "PUT",
      headers: { prefer: "respond-async" },
      body: { input: { text: "dogs", hold: 30 }, webhook: hook.url, webhook_events_filter: ["completed"] },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: "tr-1", status: expect.stringMatching(/starting|processing/) });
    await eventually(() => expect(s.runner.get("tr-1")?.status).toBe("processing"));
    // The same id again while it runs: the one already running, not a second training.
    const again = await call(s, "/trainings/tr-1", {
      method: "PUT",
      headers: { prefer: "respond-async" },
      body: { input: { text: "other" } },
    });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: "tr-1", status: "processing", input: { text: "dogs" } });
    expect(s.runner.inFlight).toBe(1);
    // The prediction routes do not cancel a training.
    expect((await call(s, "/predictions/tr-1/cancel", { method: "POST" })).status).toBe(404);
    const c = await call(s, "/trainings/tr-1/cancel", { method: "POST" });
    expect(c).toEqual({ status: 200, body: {} });
    await hook.waitFor(1);
    const body = JSON.parse(hook.received[0]!.body);
    expect(body).toMatchObject({ id: "tr-1", status: "canceled" });
    expect(body.logs).toContain("training canceled");
    expect(hook.received).toHaveLength(1); // completed only
    expect((await call(s, "/trainings/tr-1/cancel", { method: "POST" })).status).toBe(404);
  });

  test("PUT with a different body id is refused in the trainings' own words", async () => {
    const s = await serve("train-class", "trainer.py:Trainer");
    const r = await call(s, "/trainings/abc", { method: "PUT", body: { id: "xyz", input: { text: "a" } } });
    expect(r.status).toBe(422);
    expect(r.body.detail[0]).toMatchObject({
      loc: ["body", "id"],
      msg: "training ID must match the ID supplied in the URL",
    });
    const bad = await call(s, "/trainings/a%20b", { method: "PUT", body: { input: { text: "a" } } });
    expect(bad.body.detail[0].loc).toEqual(["path", "training_id"]);
  });
});

describe("a subclass of cog.TrainingOutput", () => {
  test("adds its fields next to weights, in the schema and in the output", async () => {
    const s = await serve("train-class", "trainer.py:train_with_loss");
    const doc = (await call(s, "/openapi.json")).body;
    // A model class with a name of its own is a component of its own (as pydantic names it in Cog).
    expect(doc.components.schemas.TrainingOutput.$ref).toBe("#/components/schemas/TrainingOutputWithLoss");
    expect(doc.components.schemas.TrainingOutputWithLoss).toMatchObject({
      properties: { weights: { format: "uri" }, loss: { type: "number" } },
      required: ["weights", "loss"],
    });
    const r = await call(s, "/trainings", { body: { input: { text: "abc" } } });
    expect(r.body.output.loss).toBe(0.25);
    expect(decode(r.body.output.weights)).toBe("abc");
  });
});

describe("an async train() next to a sync predictor", () => {
  test("runs (the sync worker drives the coroutine)", async () => {
    const s = await serve("train-class", "trainer.py:train_async");
    const r = await call(s, "/trainings", { body: { input: { text: "go" } } });
    expect(r.body.status).toBe("succeeded");
    expect(decode(r.body.output.weights)).toBe("async go");
  });
});

describe("one class with predict() and train()", () => {
  test("shares one instance: setup() runs once for both", async () => {
    const s = await serve("train-class", "predict.py:Predictor");
    const p = await call(s, "/predictions", { body: { input: { text: "x" } } });
    expect(p.body.output).toBe("x with base weights (1 setup)");
    const t = await call(s, "/trainings", { body: { input: { text: "y" } } });
    expect(t.body.status).toBe("succeeded");
    expect(decode(t.body.output)).toBe("trained on y after 1 setup");
  });
});

describe("a model without a trainer", () => {
  test("/trainings answers 404 saying there is no train: entry", async () => {
    const s = await serve("train-class", null);
    expect((await call(s, "/")).body.trainings_url).toBeUndefined();
    for (const [method, route] of [
      ["POST", "/trainings"],
      ["PUT", "/trainings/t1"],
      ["POST", "/trainings/t1/cancel"],
    ] as const) {
      const r = await call(s, route, { method, body: { input: {} } });
      expect(r.status).toBe(404);
      expect(r.body.detail).toMatch(/no trainer: its cog.yaml has no `train:` entry/);
    }
    expect((await call(s, "/openapi.json")).body.components.schemas.TrainingInput).toBeUndefined();
  });
});
