// The hosted /v1 API driven by the real `replicate` npm client: run (block / poll), create + wait,
// failing models, Prefer: wait, Location, list + paginate, models/versions, queueing and auth.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate from "replicate";
import { eventually, request } from "../runtime/helpers.js";
import { startV1, type V1Server } from "./helpers.js";

describe("/v1 predictions with the replicate client", () => {
  let echo: V1Server;
  beforeAll(async () => {
    echo = await startV1("echo", { hosted: { pageSize: 5, model: "acme/echo" } });
  });
  afterAll(() => echo.close());

  it("run (blocking) by version returns the output", async () => {
    const out = await echo.replicate.run(`acme/echo:${echo.version}`, { input: { text: "hello kiln" } });
    expect(out).toBe("hello kiln");
  });

  it("run by model name, and run with wait mode poll", async () => {
    expect(await echo.replicate.run("someone/anything", { input: { text: "by name" } })).toBe("by name");
    const polled = await echo.replicate.run("acme/echo", {
      input: { text: "polled", ms: 300 },
      wait: { mode: "poll", interval: 50 },
    });
    expect(polled).toBe("polled");
    const viaDeployment = await echo.replicate.deployments.predictions.create("acme", "prod", {
      input: { text: "dep" },
      wait: true,
    });
    expect(viaDeployment).toMatchObject({ status: "succeeded", output: "dep", model: "acme/prod" });
  });

  it("predictions.create + wait returns the full hosted prediction object", async () => {
    const created = await echo.replicate.predictions.create({
      version: echo.version,
      input: { text: "abc", ms: 200 },
    });
    expect(created.status).toMatch(/starting|processing/);
    expect(created.urls.get).toBe(`${echo.base}/v1/predictions/${created.id}`);
    const done = await echo.replicate.wait(created, { interval: 50 });
    expect(done).toMatchObject({
      id: created.id,
      model: "acme/echo",
      version: echo.version,
      input: { text: "abc", ms: 200 },
      output: "abc",
      error: null,
      status: "succeeded",
      data_removed: false,
      source: "api",
      urls: {
        get: created.urls.get,
        cancel: `${created.urls.get}/cancel`,
        stream: `${created.urls.get}/stream`,
      },
    });
    expect(done.logs).toContain("echo 3 chars");
    expect(done.metrics?.predict_time).toBeGreaterThan(0.15);
    expect((done.metrics as Record<string, number>).total_time).toBeGreaterThanOrEqual(
      done.metrics!.predict_time!,
    );
    expect(Date.parse(done.completed_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  it("create answers 201 with a Location header; Prefer: wait holds until terminal", async () => {
    const res = await request(echo.base, "/v1/predictions", {
      body: { version: echo.version, input: { text: "held", ms: 150 } },
      headers: { prefer: "wait", authorization: "Bearer x" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(res.body.urls.get);
    expect(res.body.status).toBe("succeeded");
    expect(res.body.output).toBe("held");
  });

  it("Prefer: wait=N that runs out reports `starting` (never an early `processing`)", async () => {
    const t0 = Date.now();
    const res = await request(echo.base, "/v1/predictions", {
      body: { version: echo.version, input: { text: "late", ms: 2500 } },
      headers: { prefer: "wait=1" },
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("starting");
    expect(res.body.output).toBeNull();
    // The client in block mode then polls to the real result.
    const done = await echo.replicate.wait(res.body, { interval: 50 });
    expect(done.output).toBe("late");
  });

  it("bad requests get hosted-style errors", async () => {
    const noVersion = await request(echo.base, "/v1/predictions", { body: { input: { text: "x" } } });
    expect(noVersion.status).toBe(422);
    expect(noVersion.body.invalid_fields[0].field).toBe("version");
    const missing = await request(echo.base, "/v1/predictions", {
      body: { version: echo.version, input: {} },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toContain("input.text: Field required");
    const badPrefer = await request(echo.base, "/v1/predictions", {
      body: { version: echo.version, input: { text: "x" } },
      headers: { prefer: "wait=soon" },
    });
    expect(badPrefer.status).toBe(400);
    await expect(echo.replicate.predictions.get("no-such-id")).rejects.toThrow(/status 404/);
  });

  it("lists predictions newest first and paginates past one page", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        (
          await echo.replicate.predictions.create({
            version: echo.version,
            input: { text: `p${i}` },
            wait: true,
          })
        ).id,
      );
    }
    const first = await echo.replicate.predictions.list();
    expect(first.results).toHaveLength(5);
    expect(first.results[0]!.id).toBe(ids[11]);
    expect(first.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/predictions\?cursor=/);
    const seen: string[] = [];
    let pages = 0;
    for await (const page of echo.replicate.paginate(echo.replicate.predictions.list)) {
      expect(page.length).toBeLessThanOrEqual(5);
      pages++;
      seen.push(...page.map((p) => p.id));
    }
    expect(pages).toBeGreaterThan(3);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    const second = await request(echo.base, new URL(first.next!).pathname + new URL(first.next!).search);
    expect(second.body.previous).toMatch(/cursor=a/);
    const back = await request(
      echo.base,
      new URL(second.body.previous).pathname + new URL(second.body.previous).search,
    );
    expect(back.body.results.map((p: { id: string }) => p.id)).toEqual(first.results.map((p) => p.id));
  });

  it("models.get / versions.list / versions.get return the OpenAPI schema", async () => {
    const model = await echo.replicate.models.get("acme", "echo");
    expect(model.owner).toBe("acme");
    expect(model.latest_version?.id).toBe(echo.version);
    const schema = model.latest_version?.openapi_schema as {
      openapi: string;
      components: { schemas: { Input: { required: string[] } } };
    };
    expect(schema.openapi).toBe("3.0.2");
    expect(schema.components.schemas.Input.required).toEqual(["text"]);
    const versions = await echo.replicate.models.versions.list("acme", "echo");
    expect((versions as unknown as { results: { id: string }[] }).results[0]!.id).toBe(echo.version);
    expect((await echo.replicate.models.versions.get("acme", "echo", echo.version)).id).toBe(echo.version);
    // Any version id answers for the one model served (the Python client fetches it after run()).
    const other = await echo.replicate.models.versions.get("acme", "echo", "0".repeat(64));
    expect(other.id).toBe("0".repeat(64));
    expect(echo.version).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("/v1 failures, queueing and auth", () => {
  it("a failing model raises the client's error with kiln's message", async () => {
    const s = await startV1("fails");
    try {
      await expect(s.replicate.run("acme/fails", { input: {} })).rejects.toThrow(
        "Prediction failed: the model refused: kiln-fixture-failure-42",
      );
      const p = await s.replicate.predictions.create({ version: s.version, input: {} });
      await expect(s.replicate.wait(p, { interval: 20 })).rejects.toThrow(/kiln-fixture-failure-42/);
      const stored = await s.replicate.predictions.get(p.id);
      expect(stored.status).toBe("failed");
      expect(stored.error).toContain("kiln-fixture-failure-42");
    } finally {
      await s.close();
    }
  });

  it("queues when every slot is busy (no 409), answers 429 only when the queue is full", async () => {
    const s = await startV1("echo", { hosted: { queueSize: 2 } });
    try {
      // Slot + 2 queue places: 3 accepted at once, the 4th is refused with 429.
      const create = () =>
        request(s.base, "/v1/predictions", { body: { version: s.version, input: { text: "q", ms: 20000 } } });
      const accepted = await Promise.all([create(), create(), create()]);
      expect(accepted.map((r) => r.status)).toEqual([201, 201, 201]);
      const refused = await create();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.body.detail).toMatch(/queue of 2 is full/);
      // Container API still says 409 while the slot is busy; /v1 never does.
      expect((await request(s.base, "/predictions", { body: { input: { text: "c" } } })).status).toBe(409);
      // Cancel the queued ones (they never run), then the running one.
      const ended = [];
      for (const i of [2, 1, 0]) ended.push(await s.replicate.predictions.cancel(accepted[i]!.body.id));
      expect(ended.map((p) => p.status)).toEqual(["canceled", "canceled", "canceled"]);
      expect(ended.map((p) => p.logs === "" && p.started_at === p.completed_at)).toEqual([true, true, false]);
    } finally {
      await s.close();
    }
  });

  it("predictions sent while setup runs wait for it, then run", async () => {
    const s = await startV1("slowSetup", {}, "x", false);
    try {
      // The schema is known once the worker loaded; setup still has ~1.5 s to go.
      await eventually(() => expect(s.server.health.loaded).not.toBeNull());
      expect(s.server.health.ready).toBe(false);
      const early = await s.replicate.predictions.create({ version: s.version, input: { text: "early" } });
      expect(early.status).toBe("starting");
      expect(await s.replicate.run("acme/slow-setup", { input: { text: "held" } })).toBe("held");
      expect((await s.replicate.wait(early, { interval: 20 })).output).toBe("early");
    } finally {
      await s.close();
    }
  });

  it("the client's concurrent runs beyond the slots all succeed through the default queue", async () => {
    const s = await startV1("echo");
    try {
      expect(s.server.runner.capacity).toBe(1);
      const texts = Array.from({ length: 12 }, (_, i) => `t${i}`);
      const outs = await Promise.all(
        texts.map((t) => s.replicate.run("acme/echo", { input: { text: t, ms: 20 } })),
      );
      expect(outs).toEqual(texts);
    } finally {
      await s.close();
    }
  });

  it("with --api-token: a wrong token gets 401 and nothing runs; the right one works", async () => {
    const s = await startV1("echo", { hosted: { apiToken: "s3cret" } }, "wrong");
    try {
      await expect(s.replicate.run("acme/echo", { input: { text: "no" } })).rejects.toThrow(/status 401/);
      const none = await request(s.base, "/v1/predictions", {
        body: { version: s.version, input: { text: "no" } },
      });
      expect(none.status).toBe(401);
      expect(s.server.runner.inFlight).toBe(0);
      const good = new Replicate({ auth: "s3cret", baseUrl: `${s.base}/v1` });
      expect((await good.predictions.list()).results).toHaveLength(0); // the refused ones never ran
      expect(await good.run("acme/echo", { input: { text: "yes" } })).toBe("yes");
    } finally {
      await s.close();
    }
  });

  it("KILN_API_TOKEN in the server's env (as kiln serve passes it) also requires the token", async () => {
    const s = await startV1("noop", { env: { KILN_API_TOKEN: "from-env" } }, "wrong");
    try {
      await expect(s.replicate.run("acme/noop", { input: {} })).rejects.toThrow(/status 401/);
      const good = new Replicate({ auth: "from-env", baseUrl: `${s.base}/v1` });
      expect(await good.run("acme/noop", { input: {} })).toBe("ok");
    } finally {
      await s.close();
    }
  });

  it("without --api-token any bearer token is accepted", async () => {
    const s = await startV1("noop", {}, "whatever-token");
    try {
      expect(await s.replicate.run("acme/noop", { input: {} })).toBe("ok");
    } finally {
      await s.close();
    }
  });
});
