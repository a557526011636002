/**
 * Hosted /v1 behaviours that Replicate's clients rely on, with a Cog (Python) predictor behind them:
 * the version route for any id, and the Cancel-After deadline ending a prediction as `canceled`.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { CASES_DIR, startCaseServer, type Json } from "./corpus.js";

let s: RunningServer;
beforeAll(async () => {
  s = await startCaseServer(join(CASES_DIR, "wire-sleep"), "Predictor");
});
afterAll(() => s.close());

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(s.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe("hosted /v1 parity", () => {
  test("GET /v1/models/{owner}/{name}/versions/{id} answers 200 for the served model whatever the id", async () => {
    const res = await fetch(`${s.url}/v1/models/someone/some-model/versions/${"ab".repeat(32)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.id).toBe("ab".repeat(32));
    expect(body.openapi_schema.components.schemas.Input.properties.seconds.type).toBe("number");
  });

  test("Cancel-After: the prediction is canceled at the deadline, with status canceled", async () => {
    const created = await post(
      "/v1/models/someone/sleeper/predictions",
      { input: { seconds: 30 } },
      { "cancel-after": "1s" },
    );
    expect(created.status).toBe(201);
    const url = `${s.url}/v1/predictions/${created.body.id}`;
    const started = Date.now();
    // The prediction's event stream ends when the prediction does: its `done` event says why.
    const events = await (await fetch(created.body.urls.stream)).text();
    expect(events).toMatch(/^event: done\n(id: \d+\n)?data: \{"reason":"canceled"\}$/m);
    const p: Json = await (await fetch(url)).json();
    expect(p.status).toBe("canceled");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test("a malformed Cancel-After is a 400 that says what to send", async () => {
    const r = await post("/v1/predictions", { version: "x", input: {} }, { "cancel-after": "soon" });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain("use e.g. 30s, 5m, 1h30m");
  });
});

describe("Cancel-After values", () => {
  test.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    ["250ms", 250],
    ["90", 90_000],
  ])("%s is %d ms", async (text, ms) => {
    const { parseCancelAfter } = await import("../../src/runtime/v1/cancel-after.js");
    expect(parseCancelAfter(text)).toBe(ms);
  });

  test.each(["", "0s", "-5s", "5 minutes", "1d", "10s5"])("%j is refused", async (text) => {
    const { parseCancelAfter } = await import("../../src/runtime/v1/cancel-after.js");
    expect(() => parseCancelAfter(text)).toThrow(/is not a duration/);
  });
});
