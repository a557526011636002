import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import {
  eventually,
  parseSse,
  request,
  fixtureServers,
  startReceiver,
  NODE_WORKER_MODES,
} from "./helpers.js";

const servers = fixtureServers();

// Every suite below runs against both ways a node predictor runs (KILN_NODE_WORKER_MODE).
describe.each(NODE_WORKER_MODES)("%s worker", (mode) => {
  const start: typeof servers.start = (name, extra = {}) =>
    servers.start(name, { nodeWorkerMode: mode, ...extra });

  describe("async predictions and webhooks", () => {
    it("Prefer: respond-async answers 202 and delivers start/output/logs/completed to the webhook", async () => {
      const hook = await startReceiver();
      try {
        const s = await start("stream", { throttleMs: 0, webhookAuthToken: "tok123" });
        const r = await request(s.url, "/predictions", {
          body: { input: { n: 3 }, webhook: `${hook.url}/hook` },
          headers: { prefer: "respond-async" },
        });
        expect(r.status).toBe(202);
        expect(["starting", "processing"]).toContain(r.body.status);
        await eventually(() => {
          const last = JSON.parse(hook.received.at(-1)?.body ?? "{}");
          expect(last.status).toBe("succeeded");
        });
        const bodies = hook.received.map((x) => JSON.parse(x.body));
        expect(bodies.at(-1).output).toEqual(["c0", "c1", "c2"]);
        expect(bodies.at(-1).logs).toContain("chunk 2");
        expect(bodies[0].status).toBe("processing");
        expect(hook.received.every((x) => x.headers.authorization === "Bearer tok123")).toBe(true);
        expect(hook.received.every((x) => x.path === "/hook")).toBe(true);
        // progress sends are coalesced (one in flight, one per interval); bodies show the state at send time
        const hook2 = await startReceiver();
        await request(s.url, "/predictions", {
          body: {
            input: { n: 3 },
            webhook: hook2.url,
            webhook_events_filter: ["start", "output", "completed"],
          },
        });
        await eventually(() =>
          expect(JSON.parse(hook2.received.at(-1)?.body ?? "{}").status).toBe("succeeded"),
        );
        const lengths = hook2.received.map((x) => JSON.parse(x.body).output.length);
        expect(lengths.length).toBeGreaterThanOrEqual(2);
        expect(lengths.length).toBeLessThanOrEqual(5);
        expect([...lengths].sort()).toEqual(lengths);
        expect(lengths.at(-1)).toBe(3);
        await hook2.close();
      } finally {
        await hook.close();
      }
    });

    it("webhook_events_filter limits events; logs are throttled", async () => {
      const hook = await startReceiver();
      try {
        const s = await start("stream", { throttleMs: 60_000 });
        await request(s.url, "/predictions", {
          body: {
            input: { n: 5, delay: 5 },
            webhook: hook.url,
            webhook_events_filter: ["logs", "completed"],
          },
        });
        await eventually(() => expect(hook.received.length).toBe(2));
        const bodies = hook.received.map((x) => JSON.parse(x.body));
        // one logs webhook (the throttle interval is a minute), then completed
        expect(bodies[0].status).toBe("processing");
        expect(bodies[1].status).toBe("succeeded");
        const only = await startReceiver();
        await request(s.url, "/predictions", {
          body: { input: { n: 2 }, webhook: only.url, webhook_events_filter: ["start"] },
        });
        // Closing the server drains its webhook deliveries: after it, nothing more can arrive.
        await s.close();
        expect(only.received.map((x) => JSON.parse(x.body).status)).toEqual(["processing"]);
        await only.close();
      } finally {
        await hook.close();
      }
    });

    it("retries the completed webhook on 5xx/429 until it gets through; the prediction is unaffected", async () => {
      const hook = await startReceiver((_r, n) => ({ status: n < 3 ? 503 : n < 5 ? 429 : 200 }));
      try {
        const s = await start("echo");
        const r = await request(s.url, "/predictions", {
          body: { input: { text: "w" }, webhook: hook.url, webhook_events_filter: ["completed"] },
        });
        expect(r.body.status).toBe("succeeded");
        await hook.waitFor(5);
        expect(hook.received.map((x) => JSON.parse(x.body).status)).toEqual(Array(5).fill("succeeded"));
      } finally {
        await hook.close();
      }
    });

    it("gives up on the completed webhook after 11 attempts (1 + 10 retries); 4xx is not retried", async () => {
      const hook = await startReceiver(() => ({ status: 500 }));
      const gone = await startReceiver(() => ({ status: 410 }));
      try {
        const s = await start("echo");
        await request(s.url, "/predictions", {
          body: { input: { text: "r" }, webhook: hook.url, webhook_events_filter: ["completed"] },
        });
        await request(s.url, "/predictions", {
          body: { input: { text: "r" }, webhook: gone.url, webhook_events_filter: ["completed"] },
        });
        await hook.waitFor(11);
        // Closing the server waits for the deliveries still retrying: a 12th attempt would arrive before.
        await s.close();
        expect(hook.received.length).toBe(11);
        expect(gone.received.length).toBe(1);
      } finally {
        await hook.close();
        await gone.close();
      }
    });

    it("a dead webhook receiver does not hurt the prediction or the server", async () => {
      const hook = await startReceiver();
      const deadUrl = hook.url;
      await hook.close();
      const s = await start("echo");
      const r = await request(s.url, "/predictions", { body: { input: { text: "z" }, webhook: deadUrl } });
      expect(r.body.status).toBe("succeeded");
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    });
  });

  describe("SSE", () => {
    it("streams start, output, log, metric, completed in order", async () => {
      const s = await start("stream");
      const r = await request(s.url, "/predictions", {
        body: { input: { n: 2 } },
        headers: { accept: "text/event-stream" },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/event-stream");
      const events = parseSse(r.text);
      expect(events[0]!.event).toBe("start");
      expect(events.at(-1)!.event).toBe("completed");
      expect(events.at(-1)!.data.status).toBe("succeeded");
      expect(events.filter((e) => e.event === "output").map((e) => e.data)).toEqual([
        { chunk: "c0", index: 0 },
        { chunk: "c1", index: 1 },
      ]);
      expect(
        events
          .filter((e) => e.event === "log")
          .map((e) => e.data.data)
          .join(""),
      ).toBe("chunk 0\nchunk 1\n");
      const m = await start("echo");
      const e2 = parseSse(
        (
          await request(m.url, "/predictions", {
            body: { input: { text: "abc" } },
            headers: { accept: "text/event-stream" },
          })
        ).text,
      );
      expect(e2.find((e) => e.event === "metric")!.data).toEqual({
        name: "chars",
        value: 3,
        mode: "replace",
      });
      expect(e2.at(-1)!.data.output).toBe("abc");
    });

    it("PUT with the id of a running prediction re-attaches (SSE) or returns 202 with its state", async () => {
      const s = await start("stream");
      const first = request(s.url, "/predictions/p1", {
        method: "PUT",
        body: { input: { n: 4, delay: 100 } },
        headers: { prefer: "respond-async" },
      });
      expect((await first).status).toBe(202);
      const again = await request(s.url, "/predictions/p1", {
        method: "PUT",
        body: { input: { n: 4, delay: 100 } },
      });
      expect(again.status).toBe(202);
      expect(again.body.id).toBe("p1");
      expect(again.body.status).toBe("processing");
      const sse = await request(s.url, "/predictions/p1", {
        method: "PUT",
        body: {},
        headers: { accept: "text/event-stream" },
      });
      expect(sse.status).toBe(202);
      const events = parseSse(sse.text);
      expect(events[0]!.event).toBe("start");
      expect(events.filter((e) => e.event === "output").length).toBe(4);
      expect(events.at(-1)!.data.status).toBe("succeeded");
    });
  });

  describe("cancel", () => {
    it("cancels a sync prediction: user code sees the abort, the response says canceled", async () => {
      const s = await start("slow");
      const pending = request(s.url, "/predictions", { body: { id: "sync1", input: { ms: 10_000 } } });
      await eventually(() => expect(s.runner.get("sync1")?.logs).toContain("slow started"));
      const c = await request(s.url, "/predictions/sync1/cancel", { method: "POST" });
      expect(c.status).toBe(200);
      expect(c.body).toEqual({});
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("canceled");
      expect(r.body.logs).toContain("saw abort");
      const again = await request(s.url, "/predictions/sync1/cancel", { method: "POST" });
      expect(again.status).toBe(404);
    });

    it("cancels an async prediction and sends the terminal webhook", async () => {
      const hook = await startReceiver();
      try {
        const s = await start("slow");
        await request(s.url, "/predictions", {
          body: { id: "as1", input: { ms: 10_000 }, webhook: hook.url },
          headers: { prefer: "respond-async" },
        });
        // "processing" is set when the worker gets the prediction; its first log line says the predictor
        // runs (and listens to its AbortSignal).
        await eventually(() => expect(s.runner.get("as1")?.logs).toContain("slow started"));
        expect((await request(s.url, "/predictions/as1/cancel", { method: "POST" })).status).toBe(200);
        expect((await request(s.url, "/predictions/as1/cancel", { method: "POST" })).status).toBeOneOf([
          200, 404,
        ]);
        await eventually(() => expect(JSON.parse(hook.received.at(-1)!.body).status).toBe("canceled"));
        expect(JSON.parse(hook.received.at(-1)!.body).logs).toContain("saw abort");
      } finally {
        await hook.close();
      }
    });

    it("cancels a streaming prediction; SSE ends with a canceled completed event", async () => {
      const s = await start("stream");
      const pending = request(s.url, "/predictions/st1", {
        method: "PUT",
        body: { input: { n: 100, delay: 50 } },
        headers: { accept: "text/event-stream" },
      });
      await eventually(async () =>
        expect(s.runner.get("st1")?.history.some((e) => e.type === "output")).toBe(true),
      );
      await request(s.url, "/predictions/st1/cancel", { method: "POST" });
      const events = parseSse((await pending).text);
      expect(events.at(-1)!.data.status).toBe("canceled");
      expect(events.filter((e) => e.event === "output").length).toBeLessThan(100);
    });

    it("a client that drops a sync request cancels the prediction", async () => {
      const s = await start("slow");
      const req = httpRequest(`${s.url}/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("error", () => undefined);
      req.end(JSON.stringify({ id: "drop1", input: { ms: 10_000 } }));
      await eventually(() => expect(s.runner.get("drop1")?.logs).toContain("slow started"));
      const p = s.runner.get("drop1")!;
      req.destroy();
      await p.finished;
      expect(p.status).toBe("canceled");
      expect(p.logs).toContain("saw abort");
      await eventually(() => expect(s.runner.inFlight).toBe(0));
    });
  });

  describe("concurrency", () => {
    it("409 when all slots are busy; BUSY health; slots free again afterwards", async () => {
      const s = await start("slow", { maxConcurrency: 2 });
      const a = request(s.url, "/predictions", { body: { input: { ms: 400 } } });
      const b = request(s.url, "/predictions", { body: { input: { ms: 400 } } });
      await eventually(() => expect(s.runner.inFlight).toBe(2));
      const health = await request(s.url, "/health-check");
      expect(health.body.status).toBe("BUSY");
      const c = await request(s.url, "/predictions", { body: { input: { ms: 1 } } });
      expect(c.status).toBe(409);
      expect(c.body.status).toBe("failed");
      expect(c.body.error).toMatch(/capacity/);
      expect((await a).body.status).toBe("succeeded");
      expect((await b).body.status).toBe("succeeded");
      expect((await request(s.url, "/predictions", { body: { input: { ms: 1 } } })).status).toBe(200);
    });

    it("health-check and cancel answer while a prediction runs (event loop not blocked)", async () => {
      const s = await start("slow");
      const a = request(s.url, "/predictions", { body: { id: "busy1", input: { ms: 600 } } });
      await eventually(() => expect(s.runner.inFlight).toBe(1));
      const t0 = Date.now();
      const h = await request(s.url, "/health-check");
      expect(Date.now() - t0).toBeLessThan(300);
      expect(h.body.status).toBe("BUSY");
      await a;
    });
  });
});
