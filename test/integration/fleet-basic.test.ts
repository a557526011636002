import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate from "replicate";
import { startRedis, startReplica, startTestGateway, type RedisInstance } from "./fleet-helpers.js";

let redis: RedisInstance;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

describe("gateway + replicas on a real redis-server", () => {
  it("runs a prediction through the gateway with Prefer: wait", async () => {
    const r = await startReplica(redis.url, "echo", { version: "v-echo" });
    const g = await startTestGateway(redis.url);
    try {
      const res = await fetch(`${g.url}/v1/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json", prefer: "wait" },
        body: JSON.stringify({ version: "v-echo", input: { text: "hi", times: 2 } }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status).toBe(201);
      expect(body).toMatchObject({
        status: "succeeded",
        output: "hihi",
        model: "kiln/echo",
        version: "v-echo",
      });
      const replicate = new Replicate({ auth: "x", baseUrl: `${g.url}/v1` });
      const out = await replicate.run("kiln/echo", { input: { text: "yo" } });
      expect(out).toBe("yo");
    } finally {
      await g.close();
      await r.close();
    }
  });
});
