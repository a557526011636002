/** A TypeScript trainer (defineTrainer) behind the container API's /trainings routes. */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { eventually, request, startFixture, startReceiver } from "./helpers.js";

const servers: RunningServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function start(): Promise<RunningServer> {
  const s = await startFixture("trainer", {
    train: { language: "node", file: "", name: "loraTrainer" },
    throttleMs: 0,
  });
  servers.push(s);
  return s;
}

const decode = (uri: string) => Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8");

describe("TS trainer over /trainings", () => {
  it("runs sync and returns { weights } as a file; the schema names TrainingInput/TrainingOutput", async () => {
    const s = await start();
    const r = await request(s.url, "/trainings", { body: { input: { text: "owl", steps: 3 } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "succeeded", logs: "step 1/3\nstep 2/3\nstep 3/3\n" });
    expect(decode(r.body.output.weights)).toBe("lora:owlx3");
    const doc = (await request(s.url, "/openapi.json")).body;
    expect(doc.components.schemas.TrainingInput.required).toEqual(["text"]);
    expect(doc.components.schemas.TrainingOutput.properties.weights).toMatchObject({ format: "uri" });
    expect(doc.paths["/trainings"].post.requestBody).toBeDefined();
    const bad = await request(s.url, "/trainings", { body: { input: { text: "owl", steps: 0 } } });
    expect(bad.status).toBe(422);
  });

  it("async: start and completed webhooks only; cancel ends it canceled", async () => {
    const s = await start();
    const hook = await startReceiver();
    closers.push(hook.close);
    const r = await request(s.url, "/trainings", {
      headers: { prefer: "respond-async" },
      body: {
        id: "ts-train-1",
        input: { text: "owl", hold: 30_000 },
        webhook: hook.url,
        webhook_events_filter: ["start", "completed"],
      },
    });
    expect(r.status).toBe(202);
    await hook.waitFor(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ id: "ts-train-1", status: "processing" });
    await eventually(() => expect(s.runner.isRunning("ts-train-1")).toBe(true));
    expect((await request(s.url, "/trainings/ts-train-1/cancel", { method: "POST" })).status).toBe(200);
    await hook.waitFor(2);
    expect(JSON.parse(hook.received[1]!.body)).toMatchObject({ id: "ts-train-1", status: "canceled" });
    expect(hook.received).toHaveLength(2);
  });
});
