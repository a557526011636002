// Pure pieces of the /v1 facade: Prefer parsing, SSE framing, signing, pagination cursors.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateWebhook } from "replicate";
import { parsePreferWait } from "../../src/runtime/v1/predictions-routes.js";
import { hostedEvents, hostedFrame, parseLastEventId } from "../../src/runtime/v1/stream.js";
import {
  generateWebhookSecret,
  secretKey,
  signPayload,
  webhookSigner,
} from "../../src/runtime/v1/signing.js";
import { HostedRegistry, type HostedRecord } from "../../src/runtime/v1/registry.js";
import type { Prediction } from "../../src/runtime/core/prediction.js";
import { barePrediction } from "../helpers/prediction.js";
import { defaultVersion, routeKey, V1_ROUTES } from "../../src/runtime/v1/hosted.js";
import { registerHostedRoutes } from "../../src/runtime/v1/api.js";
import type { HostedContext } from "../../src/runtime/v1/context.js";

const prediction = (id: string, iterator = false): Prediction => barePrediction({ id, iterator });

describe("Prefer: wait", () => {
  it("parses wait, wait=N (capped at 60) and ignores other preferences", () => {
    expect(parsePreferWait(undefined)).toBeNull();
    expect(parsePreferWait("respond-async")).toBeNull();
    expect(parsePreferWait("wait")).toBe(60);
    expect(parsePreferWait("wait=5")).toBe(5);
    expect(parsePreferWait("respond-async, wait=7")).toBe(7);
    expect(parsePreferWait("wait=600")).toBe(60);
    expect(() => parsePreferWait("wait=0")).toThrow();
    expect(() => parsePreferWait("wait=1.5")).toThrow();
  });
});

describe("hosted SSE frames", () => {
  it("splits multi-line data into data: lines and numbers ids", () => {
    expect(hostedFrame("output", { index: 3, sub: 0 }, "a\nb\n")).toBe(
      "event: output\nid: 3\ndata: a\ndata: b\ndata: \n\n",
    );
    expect(hostedFrame("done", { index: 9, sub: 2 }, "{}")).toBe("event: done\nid: 9.2\ndata: {}\n\n");
    expect(parseLastEventId("9.2")).toEqual({ index: 9, sub: 2 });
    expect(parseLastEventId("12")).toEqual({ index: 12, sub: 0 });
    expect(parseLastEventId("nonsense")).toBeNull();
  });

  it("renders completion as output (non-streaming) / error + done with a reason", () => {
    const ok = prediction("a");
    ok.finish("succeeded", { output: { n: 1 } });
    expect(hostedEvents({ type: "completed" }, ok)).toEqual([
      ["output", '{"n":1}'],
      ["done", "{}"],
    ]);
    const bad = prediction("b");
    bad.finish("failed", { error: "broken" });
    expect(hostedEvents({ type: "completed" }, bad)).toEqual([
      ["error", "broken"],
      ["done", '{"reason":"error"}'],
    ]);
    const stop = prediction("c", true);
    stop.finish("canceled");
    expect(hostedEvents({ type: "completed" }, stop)).toEqual([["done", '{"reason":"canceled"}']]);
  });
});

describe("webhook signing", () => {
  it("matches the Standard Webhooks reference vector", () => {
    const key = secretKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    expect(signPayload(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe(
      "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
  });

  it("is accepted by the replicate client's validateWebhook; ids are stable per body", async () => {
    const secret = generateWebhookSecret();
    const sign = webhookSigner(secret);
    const body = '{"id":"x","status":"succeeded"}';
    const h = sign(body);
    expect(sign(body)["webhook-id"]).toBe(h["webhook-id"]);
    const fields = {
      id: h["webhook-id"]!,
      timestamp: h["webhook-timestamp"]!,
      signature: h["webhook-signature"]!,
      body,
    };
    expect(await validateWebhook({ ...fields, secret })).toBe(true);
    expect(await validateWebhook({ ...fields, body: body + " ", secret })).toBe(false);
  });

  it("refuses secrets that are not whsec_<base64>", () => {
    expect(() => secretKey("hunter2")).toThrow(/whsec_/);
    expect(() => secretKey("whsec_")).toThrow(/whsec_/);
    expect(() => secretKey("whsec_short")).toThrow(/whsec_/);
  });
});

describe("registry pagination", () => {
  it("pages newest first with next/previous cursors and evicts only finished predictions", () => {
    const reg = new HostedRegistry(5);
    const recs: HostedRecord[] = [];
    for (let i = 0; i < 7; i++) {
      const p = prediction(`p${i}`);
      if (i !== 1) p.finish("succeeded", { output: i });
      recs.push(reg.add({ prediction: p, base: "http://h", model: "m/n", version: "v", seq: 0 }));
    }
    // 7 added, retain 5: p0 (finished) and p2 (the oldest finished after it) are evicted; p1 runs, stays.
    expect(reg.get("p0")).toBeUndefined();
    expect(reg.get("p1")).toBeDefined();
    const first = reg.page(null, 2);
    expect(first.items.map((r) => r.prediction.id)).toEqual(["p6", "p5"]);
    expect(first.previous).toBeNull();
    const second = reg.page(first.next, 2);
    expect(second.items.map((r) => r.prediction.id)).toEqual(["p4", "p3"]);
    const third = reg.page(second.next, 2);
    expect(third.items.map((r) => r.prediction.id)).toEqual(["p1"]);
    expect(third.next).toBeNull();
    expect(reg.page(second.previous, 2).items.map((r) => r.prediction.id)).toEqual(["p6", "p5"]);
    expect(() => reg.page("zz", 2)).toThrow(RangeError);
  });
});

describe("default version id", () => {
  it("is a stable content hash of the predictor and cog.yaml", () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-v1-version-"));
    writeFileSync(join(root, "predict.py"), "print(1)\n");
    const a = defaultVersion(root, "predict.py");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(defaultVersion(root, "predict.py")).toBe(a);
    writeFileSync(join(root, "cog.yaml"), "predict: predict.py:Predictor\n");
    const b = defaultVersion(root, "predict.py");
    expect(b).not.toBe(a);
    writeFileSync(join(root, "predict.py"), "print(2)\n");
    expect(defaultVersion(root, "predict.py")).not.toBe(b);
  });
});

describe("the /v1 routes table (v1/hosted.ts mounts it before api.ts loads)", () => {
  it("lists exactly the routes api.ts registers, in their order and with their public flag", () => {
    const registered: { method: string; pattern: string; public?: true }[] = [];
    registerHostedRoutes(
      {
        add: (method, pattern, _handler, options) =>
          registered.push({ method, pattern, ...(options?.public ? { public: true as const } : {}) }),
      },
      {} as HostedContext,
    );
    expect(registered.map((r) => routeKey(r.method, r.pattern))).toEqual(
      V1_ROUTES.map((r) => routeKey(r.method, r.pattern)),
    );
    expect(registered).toEqual(V1_ROUTES);
  });
});
