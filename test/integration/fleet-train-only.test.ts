// A train-only version (a trainer and no predictor) behind the gateway: the replica registers a schema
// marked trainOnly, trainings run on it, and a prediction of that version is refused with a 404 that
// says why, before anything is queued. Real redis-server on this suite's own ports (57000-57999).
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate from "replicate";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { request } from "../runtime/helpers.js";
import {
  startRedis,
  startReplica,
  startTestGateway,
  type RedisInstance,
  type TestReplica,
} from "./fleet-helpers.js";

async function freePort(): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = 57000 + ((process.pid + i) % 1000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port in 57000-57999");
}

let redis: RedisInstance;
let gateway: RunningGateway;
let replica: TestReplica;

beforeAll(async () => {
  redis = await startRedis({ port: await freePort() });
  gateway = await startTestGateway(redis.url);
  replica = await startReplica(redis.url, "unused", {
    version: "v-only",
    model: "acme/only",
    server: {
      predictor: undefined,
      train: { language: "node", file: "", name: "loraTrainer" },
      throttleMs: 0,
    },
  });
});

afterAll(async () => {
  await replica?.close();
  await gateway?.close();
  await redis?.cleanup();
});

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
