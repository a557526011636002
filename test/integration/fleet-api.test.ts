// The fleet through the official replicate client, unchanged: run, stream, cancel, files and signed
// webhooks through a gateway, several replicas sharing a version, two gateways agreeing on ids, and
// 429 when a version's queue is full. Real redis-server, in-process replicas (kiln serve --no-docker).
import type { IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate, { validateWebhook, type FileOutput } from "replicate";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { request, startReceiver } from "../runtime/helpers.js";
import { startTestFleet, startTestGateway, until, type TestFleet } from "./fleet-helpers.js";

let fleet: TestFleet;
let g1: RunningGateway;
let g2: RunningGateway;
let replicate: Replicate;

beforeAll(async () => {
  fleet = await startTestFleet({
    gateways: 2,
    gateway: { queueSize: 8 },
    replicas: [
      { predictor: "echo", version: "v-echo", model: "acme/echo" },
      { predictor: "stream", version: "v-stream", model: "acme/stream" },
      { predictor: "slow", version: "v-slow", model: "acme/slow" },
      { predictor: "slow", version: "v-slow", model: "acme/slow" },
      { predictor: "files", version: "v-files", model: "acme/files" },
    ],
  });
  [g1, g2] = fleet.gateways as [RunningGateway, RunningGateway];
  replicate = new Replicate({ auth: "anything", baseUrl: `${g1.url}/v1` });
});

afterAll(() => fleet?.close());

function asRequest(headers: IncomingHttpHeaders, body: string): Request {
  return new Request("http://127.0.0.1/hook", {
    method: "POST",
    headers: headers as Record<string, string>,
    body,
  });
}

describe("the replicate client through the gateway", () => {
  it("run by model name and by version, with logs and metrics from the replica", async () => {
    expect(await replicate.run("acme/echo", { input: { text: "ab", times: 3 } })).toBe("ababab");
    const p = await replicate.predictions.create({ version: "v-echo", input: { text: "xyz" } });
    const done = await replicate.wait(p, { interval: 50 });
    expect(done).toMatchObject({ status: "succeeded", output: "xyz", model: "acme/echo", version: "v-echo" });
    expect(done.logs).toContain("echoing xyz");
    expect(done.metrics).toMatchObject({ chars: 3 });
    expect(typeof done.metrics?.predict_time).toBe("number");
  });

  it("stream yields the replica's output chunks in order, then done", async () => {
    const events: { event: string; data: string }[] = [];
    for await (const e of replicate.stream("acme/stream", { input: { n: 4, delay: 10 } }))
      events.push({ event: e.event, data: e.data });
    expect(events.filter((e) => e.event === "output").map((e) => e.data)).toEqual(["c0", "c1", "c2", "c3"]);
    expect(events.at(-1)?.event).toBe("done");
  });

  it("cancel reaches the replica that runs it; the prediction ends canceled and the slot frees", async () => {
    const p = await replicate.predictions.create({ version: "v-slow", input: { ms: 20_000 } });
    await until(
      async () => (await replicate.predictions.get(p.id)).status === "processing",
      10_000,
      "processing",
    );
    const canceled = await replicate.predictions.cancel(p.id);
    const final =
      canceled.status === "canceled" ? canceled : await replicate.wait(canceled, { interval: 50 });
    expect(final.status).toBe("canceled");
    expect(final.logs).toContain("saw abort"); // the model's own code saw the AbortSignal
    // Every gateway reads the terminal state from Redis.
    expect((await request(g2.url, `/v1/predictions/${p.id}`)).body.status).toBe("canceled");
  });

  it("files: a Buffer input is uploaded to the fleet, read by the replica, and comes back as a file", async () => {
    const out = (await replicate.run("acme/files", {
      input: { image: Buffer.from("kiln fleet\n") },
    })) as FileOutput[];
    expect(out).toHaveLength(1);
    const text = Buffer.from(await (await out[0]!.blob()).arrayBuffer()).toString();
    expect(text).toBe("KILN FLEET\n");
    const f = await replicate.files.create(Buffer.from("second"), { purpose: "test" });
    expect((await new Replicate({ auth: "x", baseUrl: `${g2.url}/v1` }).files.get(f.id)).size).toBe(6);
    const download = await fetch(`${g2.url}/v1/files/${f.id}/download`);
    expect(await download.text()).toBe("second");
    expect(await replicate.files.delete(f.id)).toBe(true);
  });

  it("webhooks are signed with the fleet's secret and validate with the client", async () => {
    const receiver = await startReceiver();
    try {
      const { key } = await replicate.webhooks.default.secret.get();
      const viaG2 = (await request(g2.url, "/v1/webhooks/default/secret")).body.key;
      expect(viaG2).toBe(key);
      const p = await replicate.predictions.create({
        version: "v-echo",
        input: { text: "hooked" },
        webhook: `${receiver.url}/hook`,
        webhook_events_filter: ["start", "completed"],
      });
      await receiver.waitFor(2);
      const last = JSON.parse(receiver.received.at(-1)!.body) as Record<string, unknown>;
      expect(last).toMatchObject({ id: p.id, status: "succeeded", output: "hooked" });
      for (const r of receiver.received)
        expect(await validateWebhook(asRequest(r.headers, r.body), key)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe("fleet semantics", () => {
  it("two replicas of one version share its queue; both take work", async () => {
    const counts = [0, 0];
    const slow = fleet.replicas.filter((_, i) => i === 2 || i === 3);
    slow.forEach((r, i) => r.server.runner.on("completed", () => counts[i]!++));
    const created = await Promise.all(
      [0, 1, 2, 3].map(() => replicate.predictions.create({ version: "v-slow", input: { ms: 300 } })),
    );
    const done = await Promise.all(created.map((p) => replicate.wait(p, { interval: 50 })));
    expect(done.map((p) => p.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it("two gateways answer the same prediction ids with the same state", async () => {
    const p = await replicate.predictions.create({ version: "v-stream", input: { n: 3, delay: 10 } });
    const other = new Replicate({ auth: "x", baseUrl: `${g2.url}/v1` });
    const a = await replicate.wait(p, { interval: 20 });
    const b = await other.predictions.get(p.id);
    const strip = (x: object): object => ({ ...x, urls: undefined });
    expect(strip(b)).toEqual(strip(a));
    const listed = (await request(g2.url, "/v1/predictions")).body.results as { id: string }[];
    expect(listed.map((r) => r.id)).toContain(p.id);
    // Cancel through the other gateway, too.
    const long = await replicate.predictions.create({ version: "v-slow", input: { ms: 20_000 } });
    await until(
      async () => (await other.predictions.get(long.id)).status === "processing",
      10_000,
      "processing",
    );
    await other.predictions.cancel(long.id);
    expect((await replicate.wait(await replicate.predictions.get(long.id), { interval: 50 })).status).toBe(
      "canceled",
    );
  });

  it("answers 429 when a version's queue is full, and unknown versions and models clearly", async () => {
    const small = await startTestGateway(fleet.redis.url, { queueSize: 1 });
    try {
      const base = { version: "v-slow", input: { ms: 1500 } };
      const running = await Promise.all(
        [0, 1].map(() => request(small.url, "/v1/predictions", { body: base })),
      );
      await until(
        async () =>
          (await Promise.all(running.map((r) => request(small.url, `/v1/predictions/${r.body.id}`)))).every(
            (r) => r.body.status === "processing",
          ),
        10_000,
        "both slow replicas busy",
      );
      const waiting = await request(small.url, "/v1/predictions", { body: base });
      expect(waiting.status).toBe(201);
      const full = await request(small.url, "/v1/predictions", { body: base });
      expect(full.status).toBe(429);
      expect(full.headers.get("retry-after")).toBe("1");
      expect(full.body.detail).toMatch(/queue of 1 is full/);
      const unknown = await request(small.url, "/v1/predictions", { body: { version: "nope", input: {} } });
      expect(unknown.status).toBe(422);
      expect(unknown.body.detail).toMatch(/version nope is not deployed/);
      const noModel = await request(small.url, "/v1/models/acme/none/predictions", { body: { input: {} } });
      expect(noModel.status).toBe(404);
      const bad = await request(small.url, "/v1/models/acme/echo/predictions", { body: { input: {} } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail).toMatch(/text: Field required/);
      for (const r of [...running, waiting])
        await until(
          async () => (await request(small.url, `/v1/predictions/${r.body.id}`)).body.status === "succeeded",
        );
    } finally {
      await small.close();
    }
  });

  it("serves /v1/models and versions for what is deployed, and /metrics with queue lag", async () => {
    const m = (await request(g1.url, "/v1/models/acme/echo")).body;
    expect(m.latest_version.id).toBe("v-echo");
    expect(m.latest_version.openapi_schema.components.schemas.Input).toBeDefined();
    const versions = (await request(g2.url, "/v1/models/acme/slow/versions")).body.results as {
      id: string;
    }[];
    expect(versions.map((v) => v.id)).toEqual(["v-slow"]);
    expect((await request(g1.url, "/v1/models/acme/none")).status).toBe(404);
    const text = await (await fetch(`${g1.url}/metrics`)).text();
    expect(text).toMatch(/kiln_redis_group_lag\{kind="lag",model="acme\/slow",version="v-slow"\} 0/);
    expect(text).toMatch(/kiln_fleet_replicas\{version="v-slow"\} 2/);
    expect(text).toMatch(/kiln_gateway_predictions_created_total\{model="acme\/echo"\} \d+/);
  });

  it("lists every deployed model at /v1/models and serves the playground page", async () => {
    const list = (await request(g1.url, "/v1/models")).body.results as { owner: string; name: string }[];
    expect(list.map((m) => `${m.owner}/${m.name}`)).toEqual(
      expect.arrayContaining(["acme/echo", "acme/slow"]),
    );
    const page = await fetch(`${g2.url}/playground`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });
});
