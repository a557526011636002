// Trainings through the fleet with the official replicate client: the gateway queues them on the
// version's stream, a replica whose version has a trainer runs them, the weights land in the fleet's
// /v1/files (served by any gateway), webhooks are signed; versions without a trainer answer 404.
// Real redis-server, in-process replicas and gateways.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate, { validateWebhook } from "replicate";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { request, startReceiver } from "../runtime/helpers.js";
import { startTestFleet, until, type TestFleet } from "./fleet-helpers.js";

let fleet: TestFleet;
let g1: RunningGateway;
let g2: RunningGateway;
let replicate: Replicate;

beforeAll(async () => {
  fleet = await startTestFleet({
    gateways: 2,
    replicas: [
      {
        predictor: "trainer",
        version: "v-tune",
        model: "acme/tuner",
        server: { train: { language: "node", file: "", name: "loraTrainer" }, throttleMs: 0 },
      },
      { predictor: "echo", version: "v-plain", model: "acme/plain" },
    ],
  });
  [g1, g2] = fleet.gateways as [RunningGateway, RunningGateway];
  replicate = new Replicate({ auth: "anything", baseUrl: `${g1.url}/v1` });
});

afterAll(() => fleet?.close());

describe("trainings through the gateway", () => {
  it("create → signed webhook → get on another gateway; weights download from the gateway", async () => {
    const hook = await startReceiver();
    try {
      const created = await replicate.trainings.create("acme", "tuner", "v-tune", {
        destination: "acme/tuner-owl",
        input: { text: "owl", steps: 2 },
        webhook: hook.url,
        webhook_events_filter: ["completed"],
      });
      expect(created).toMatchObject({
        model: "acme/tuner",
        version: "v-tune",
        destination: "acme/tuner-owl",
        status: "starting",
        urls: { get: `${g1.url}/v1/trainings/${created.id}` },
      });
      await hook.waitFor(1, 20_000);
      const r = hook.received[0]!;
      const secret = (await replicate.webhooks.default.secret.get()).key;
      expect(
        await validateWebhook(
          new Request("http://127.0.0.1/hook", {
            method: "POST",
            headers: r.headers as Record<string, string>,
            body: r.body,
          }),
          secret,
        ),
      ).toBe(true);
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({ id: created.id, status: "succeeded", destination: "acme/tuner-owl" });
      expect(body.output.weights).toMatch(new RegExp(`^${g1.url}/v1/files/[0-9a-f]{24}/download$`));
      // Any gateway answers for it (state in Redis), and serves the weights.
      const other = new Replicate({ auth: "anything", baseUrl: `${g2.url}/v1` });
      const got = await other.trainings.get(created.id);
      expect(got).toMatchObject({
        status: "succeeded",
        logs: "step 1/2\nstep 2/2\n",
        destination: "acme/tuner-owl",
      });
      const path = new URL(body.output.weights as string).pathname;
      const res = await fetch(`${g2.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("lora:owlx2");
    } finally {
      await hook.close();
    }
  });

  it("list shows trainings only; predictions.list none of them", async () => {
    const t = await replicate.trainings.create("acme", "tuner", "v-tune", {
      destination: "acme/tuner-list",
      input: { text: "list" },
    });
    const out = await replicate.run("acme/plain", { input: { text: "p" } });
    expect(out).toBe("p");
    const trainings = await replicate.trainings.list();
    expect(trainings.results[0]?.id).toBe(t.id);
    expect(trainings.results.every((x) => x.version === "v-tune")).toBe(true);
    const predictions = await replicate.predictions.list();
    expect(predictions.results.some((p) => p.id === t.id)).toBe(false);
    expect(predictions.results[0]?.model).toBe("acme/plain");
  });

  it("cancel reaches the replica's trainer", async () => {
    const created = await replicate.trainings.create("acme", "tuner", "v-tune", {
      destination: "acme/tuner-slow",
      input: { text: "slow", hold: 60_000 },
    });
    await until(async () => (await replicate.trainings.get(created.id)).status === "processing", 20_000);
    const canceled = await replicate.trainings.cancel(created.id);
    expect(canceled.id).toBe(created.id);
    const final = await until(async () => {
      const t = await replicate.trainings.get(created.id);
      return t.status === "canceled" ? t : null;
    });
    expect(final.output ?? null).toBeNull();
  });

  it("404 for a version without a trainer, or a version of another model", async () => {
    const plain = await request(g1.url, "/v1/models/acme/plain/versions/v-plain/trainings", {
      body: { input: {}, destination: "acme/x" },
    });
    expect(plain.status).toBe(404);
    expect(plain.body.detail).toMatch(/acme\/plain version v-plain has no trainer/);
    const wrong = await request(g1.url, "/v1/models/acme/plain/versions/v-tune/trainings", {
      body: { input: { text: "x" }, destination: "acme/x" },
    });
    expect(wrong.status).toBe(404);
    expect(wrong.body.detail).toMatch(/that version belongs to acme\/tuner/);
    const unknown = await request(g1.url, "/v1/models/acme/tuner/versions/v-nope/trainings", {
      body: { input: { text: "x" }, destination: "acme/x" },
    });
    expect(unknown.status).toBe(404);
  });
});
