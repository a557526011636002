// A train-only version (a trainer and no predictor) behind the gateway: the replica registers a schema
// marked trainOnly, trainings run on it, and a prediction of that version is refused with a 404 that
// says why, before anything is queued. Real redis-server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate from "replicate";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { request } from "../runtime/helpers.js";
import { startTestFleet, type TestFleet } from "./fleet-helpers.js";

let fleet: TestFleet;
let gateway: RunningGateway;

beforeAll(async () => {
  fleet = await startTestFleet({
    replicas: [
      {
        predictor: "unused",
        version: "v-only",
        model: "acme/only",
        server: {
          predictor: undefined,
          train: { language: "node", file: "", name: "loraTrainer" },
          throttleMs: 0,
        },
      },
    ],
  });
  gateway = fleet.gateways[0]!;
});

afterAll(() => fleet?.close());

describe("a train-only version through the gateway", () => {
  it("trains, and refuses predictions with a 404 naming the version", async () => {
    const replicate = new Replicate({ auth: "anything", baseUrl: `${gateway.url}/v1` });
    const created = await replicate.trainings.create("acme", "only", "v-only", {
      destination: "acme/only-owl",
      input: { text: "owl", steps: 1 },
    });
    const done = await replicate.wait(created as never, { interval: 25 });
    expect(done).toMatchObject({ id: created.id, status: "succeeded" });

    for (const [path, body] of [
      ["/v1/predictions", { version: "v-only", input: {} }],
      ["/v1/models/acme/only/predictions", { input: {} }],
    ] as const) {
      const r = await request(gateway.url, path, { body });
      expect(r.status, path).toBe(404);
      expect(r.body.detail).toMatch(/acme\/only version v-only has no predict: entry \(it only trains\)/);
    }
  });
});
