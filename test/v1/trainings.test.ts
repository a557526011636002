// /v1 trainings driven by the real `replicate` client (trainings.create/get/list/cancel) against a kiln
// server with a TS trainer: the training JSON, output.weights as a /v1/files URL, webhooks, errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate from "replicate";
import { startServer, type RunningServer } from "../../src/runtime/server.js";
import { workerBundle } from "../workers/node/harness.js";
import { request, startReceiver } from "../runtime/helpers.js";
import { compiledFixture } from "./helpers.js";

async function start(train: string | null): Promise<{ server: RunningServer; replicate: Replicate }> {
  const { root, file } = await compiledFixture();
  const server = await startServer({
    root,
    predictor: { language: "node", file, name: "echo" },
    train: train ? { language: "node", file, name: train } : undefined,
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: await workerBundle(),
    webhookRetryDelaysMs: [10, 20, 40],
    throttleMs: 0,
    hosted: { model: "acme/echo", pageSize: 2 },
  });
  await server.ready;
  return { server, replicate: new Replicate({ auth: "t", baseUrl: `${server.url}/v1` }) };
}

const dataUri = (text: string) => `data:text/plain;base64,${Buffer.from(text).toString("base64")}`;

describe("/v1 trainings with the replicate client", () => {
  let s: RunningServer;
  let replicate: Replicate;
  beforeAll(async () => ({ server: s, replicate } = await start("lora")));
  afterAll(() => s.close());

  it("create → get → succeeded, with output.weights a downloadable /v1/files URL", async () => {
    const version = s.hosted.version;
    const created = await replicate.trainings.create("acme", "echo", version, {
      destination: "me/echo-tuned",
      input: { data: dataUri("twelve bytes"), steps: 3, ms: 100 },
    });
    expect(created).toMatchObject({
      model: "acme/echo",
      version,
      destination: "me/echo-tuned",
      status: expect.stringMatching(/starting|processing/),
      output: null,
      source: "api",
      urls: {
        get: `${s.url}/v1/trainings/${created.id}`,
        cancel: `${s.url}/v1/trainings/${created.id}/cancel`,
      },
    });
    // replicate.wait() polls predictions.get: a training id answers there too, as a training.
    const done = await replicate.wait(created as never, { interval: 20 });
    expect(done).toMatchObject({ id: created.id, status: "succeeded", destination: "me/echo-tuned" });
    const got = await replicate.trainings.get(created.id);
    expect(got).toMatchObject({ status: "succeeded", error: null, logs: "step 1/3\nstep 2/3\nstep 3/3\n" });
    expect(got.completed_at).toBeTruthy();
    expect(got.metrics?.predict_time).toBeGreaterThan(0);
    const weights = got.output?.weights ?? "";
    expect(weights).toMatch(new RegExp(`^${s.url}/v1/files/[0-9a-f]{24}/download$`));
    const res = await fetch(weights, { headers: { authorization: "Bearer t" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("weights(12 bytes of data, 3 steps)");
    // The weights are a /v1/files entry like any upload (listed, deletable)...
    const files = await request(s.url, "/v1/files");
    expect(files.body.results.map((f: { name: string }) => f.name)).toContain("lora.safetensors");
    // ...and a valid input: a second round trains on the first one's weights.
    const next = await replicate.trainings.create("acme", "echo", version, {
      destination: "me/echo-tuned",
      input: { data: weights, steps: 1 },
    });
    const round2 = (await replicate.wait(next as never, { interval: 20 })) as unknown as {
      output: { weights: string };
    };
    const again = await fetch(round2.output.weights);
    expect(await again.text()).toBe("weights(34 bytes of data, 1 steps)");
  });

  it("cancel: the running training ends canceled", async () => {
    const created = await replicate.trainings.create("acme", "echo", s.hosted.version, {
      destination: "me/echo-tuned",
      input: { ms: 30_000 },
    });
    const canceled = await replicate.trainings.cancel(created.id);
    expect(canceled).toMatchObject({ id: created.id, status: "canceled", output: null });
    expect((await replicate.trainings.get(created.id)).status).toBe("canceled");
  });

  it("list pages trainings only, newest first; predictions.list shows no trainings", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await replicate.trainings.create("acme", "echo", s.hosted.version, {
        destination: "me/list",
        input: { steps: 1 },
      });
      ids.push(t.id);
    }
    await replicate.run("acme/echo", { input: { text: "a prediction" } });
    const first = await replicate.trainings.list();
    expect(first.results.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    expect(first.next).toMatch(/\/v1\/trainings\?cursor=/);
    const second = await replicate.paginate(() => replicate.trainings.list()).next();
    expect(second.value?.length).toBe(2);
    const older = await request(s.url, new URL(first.next!).pathname + new URL(first.next!).search);
    expect(older.body.results[0].id).toBe(ids[0]);
    const predictions = await replicate.predictions.list();
    expect(predictions.results.every((p) => !ids.includes(p.id))).toBe(true);
    expect(predictions.results[0]?.output).toBe("a prediction");
  });

  it("webhooks carry the training JSON, filtered by webhook_events_filter", async () => {
    const hook = await startReceiver();
    try {
      const created = await replicate.trainings.create("acme", "echo", s.hosted.version, {
        destination: "me/hooked",
        input: { steps: 2 },
        webhook: hook.url,
        webhook_events_filter: ["completed"],
      });
      await hook.waitFor(1);
      const body = JSON.parse(hook.received[0]!.body);
      expect(body).toMatchObject({
        id: created.id,
        status: "succeeded",
        destination: "me/hooked",
        urls: { get: `${s.url}/v1/trainings/${created.id}` },
        output: { weights: expect.stringMatching(/\/v1\/files\/[0-9a-f]{24}\/download$/) },
      });
      expect(hook.received[0]!.headers["webhook-signature"]).toMatch(/^v1,/);
      expect(hook.received).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it("bad requests: destination missing or malformed, invalid input, unknown id", async () => {
    const path = `/v1/models/acme/echo/versions/${s.hosted.version}/trainings`;
    const none = await request(s.url, path, { body: { input: {} } });
    expect(none.status).toBe(422);
    expect(none.body.invalid_fields[0]).toMatchObject({ field: "destination", type: "missing" });
    const bad = await request(s.url, path, { body: { input: {}, destination: "no-slash" } });
    expect(bad.body.detail).toMatch(/destination must be a model name "owner\/name"/);
    const invalid = await request(s.url, path, { body: { input: { steps: 0 }, destination: "me/x" } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.invalid_fields[0].field).toBe("input.steps");
    await expect(replicate.trainings.get("nope")).rejects.toThrow(/404/);
    const missing = await request(s.url, "/v1/trainings/nope");
    expect(missing.body.detail).toBe("training nope was not found");
    // A prediction is not a training.
    const p = await replicate.predictions.create({ version: s.hosted.version, input: { text: "x" } });
    expect((await request(s.url, `/v1/trainings/${p.id}`)).status).toBe(404);
  });
});

describe("/v1 trainings on other models", () => {
  it("a bare-file trainer reports output.weights; a model without a trainer answers 404", async () => {
    const bare = await start("bareTrainer");
    try {
      const t = await bare.replicate.trainings.create("acme", "echo", bare.server.hosted.version, {
        destination: "me/bare",
        input: {},
      });
      const done = await bare.replicate.wait(t as never, { interval: 20 });
      expect((done as unknown as { output: { weights: string } }).output.weights).toMatch(
        /\/v1\/files\/[0-9a-f]{24}\/download$/,
      );
    } finally {
      await bare.server.close();
    }
    const plain = await start(null);
    try {
      const r = await request(
        plain.server.url,
        `/v1/models/acme/echo/versions/${plain.server.hosted.version}/trainings`,
        { body: { input: {}, destination: "me/x" } },
      );
      expect(r.status).toBe(404);
      expect(r.body.detail).toMatch(
        /acme\/echo version [0-9a-f]+ has no trainer: its cog.yaml has no `train:`/,
      );
    } finally {
      await plain.server.close();
    }
  });
});
