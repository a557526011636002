import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { request, startFixture } from "./helpers.js";

describe("container API: routes and status codes", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startFixture("echo");
  });
  afterAll(async () => {
    await s.close();
  });

  it("GET / lists the discovery URLs", async () => {
    const r = await request(s.url, "/");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      openapi_url: "/openapi.json",
      healthcheck_url: "/health-check",
      predictions_url: "/predictions",
      predictions_idempotent_url: "/predictions/{prediction_id}",
      predictions_cancel_url: "/predictions/{prediction_id}/cancel",
      shutdown_url: "/shutdown",
    });
    expect(r.body.cog_version).toMatch(/kiln/);
    expect(r.body.trainings_url).toBeUndefined();
  });

  it("GET /health-check reports READY with setup info", async () => {
    const r = await request(s.url, "/health-check");
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("READY");
    expect(r.body.setup.status).toBe("succeeded");
    expect(r.body.setup.started_at).toMatch(/Z$/);
    expect(r.body.version.kiln).toMatch(/\d+\.\d+/);
  });

  it("GET /openapi.json serves the model's document", async () => {
    const r = await request(s.url, "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.0.2");
    expect(r.body.components.schemas.Input.properties.text).toBeDefined();
  });

  it("POST /predictions runs a sync prediction with defaults and null optionals", async () => {
    const r = await request(s.url, "/predictions", { body: { input: { text: "ab", extra: 1 } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "succeeded",
      output: "ab",
      error: null,
      input: { text: "ab", times: 1, note: null },
    });
    expect(r.body.input.extra).toBeUndefined();
    expect(r.body.logs).toBe("echoing ab\n");
    expect(r.body.metrics.chars).toBe(2);
    expect(typeof r.body.metrics.predict_time).toBe("number");
    expect(r.body.id).toMatch(/^[a-z0-9]{26}$/);
    for (const k of ["created_at", "started_at", "completed_at"])
      expect(r.body[k]).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it("keeps the caller's id and context", async () => {
    const r = await request(s.url, "/predictions", {
      body: { id: "my-id-1", input: { text: "x", times: 3 }, context: { a: "b" } },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe("my-id-1");
    expect(r.body.output).toBe("xxx");
  });

  it("422 lists every validation problem with loc/msg/type", async () => {
    const r = await request(s.url, "/predictions", { body: { input: { times: "two" } } });
    expect(r.status).toBe(422);
    expect(r.body.detail).toEqual(
      expect.arrayContaining([
        { loc: ["body", "input", "text"], msg: "Field required", type: "missing" },
        expect.objectContaining({ loc: ["body", "input", "times"] }),
      ]),
    );
  });

  it("422 for a malformed envelope (input not an object, bad webhook, bad filter)", async () => {
    const r = await request(s.url, "/predictions", {
      body: { input: "text", webhook: "ftp://x", webhook_events_filter: ["nope"] },
    });
    expect(r.status).toBe(422);
    const locs = r.body.detail.map((d: { loc: string[] }) => d.loc.join("."));
    expect(locs).toEqual(
      expect.arrayContaining(["body.input", "body.webhook", "body.webhook_events_filter"]),
    );
    const arr = await request(s.url, "/predictions", { body: [1, 2] });
    expect(arr.status).toBe(422);
  });

  it("400 for malformed JSON, 415 for a wrong content type, 413 over the body limit", async () => {
    const bad = await request(s.url, "/predictions", {
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/invalid JSON/);
    const form = await request(s.url, "/predictions", {
      raw: "a=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    const small = await startFixture("echo", { bodyLimit: 1024 });
    try {
      const big = await request(small.url, "/predictions", { body: { input: { text: "y".repeat(5000) } } });
      expect(big.status).toBe(413);
      const ok = await request(small.url, "/predictions", { body: { input: { text: "fine" } } });
      expect(ok.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it("missing body and input:null mean {} (so a required field is reported)", async () => {
    const none = await request(s.url, "/predictions", { method: "POST" });
    expect(none.status).toBe(422);
    expect(none.body.detail[0].loc).toEqual(["body", "input", "text"]);
    const nul = await request(s.url, "/predictions", { body: { input: null } });
    expect(nul.status).toBe(422);
  });

  it("404 for unknown routes, 405 with Allow for a wrong method", async () => {
    const r = await request(s.url, "/nope");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ detail: "Not Found" });
    const m = await request(s.url, "/predictions", { method: "GET" });
    expect(m.status).toBe(405);
    expect(m.headers.get("allow")).toBe("POST");
    const d = await request(s.url, "/health-check", { method: "DELETE" });
    expect(d.status).toBe(405);
    expect(d.headers.get("allow")).toBe("GET, HEAD");
    const t = await request(s.url, "/trainings", { body: {} });
    expect(t.status).toBe(404);
  });

  it("cancel of an unknown id is 404 {}", async () => {
    const r = await request(s.url, "/predictions/nope/cancel", { method: "POST" });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({});
  });

  it("PUT with a mismatching body id is 422", async () => {
    const r = await request(s.url, "/predictions/abc", {
      method: "PUT",
      body: { id: "xyz", input: { text: "a" } },
    });
    expect(r.status).toBe(422);
    expect(r.body.detail[0].msg).toBe("prediction ID must match the ID supplied in the URL");
    const badId = await request(s.url, "/predictions/a%20b", {
      method: "PUT",
      body: { input: { text: "a" } },
    });
    expect(badId.status).toBe(422);
    expect(badId.body.detail[0].loc).toEqual(["path", "prediction_id"]);
    const ok = await request(s.url, "/predictions/abc", { method: "PUT", body: { input: { text: "a" } } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: "abc", status: "succeeded", output: "a" });
  });
});
