import { describe, expect, it } from "vitest";
import { startServer } from "../../src/runtime/server.js";
import { eventually, fixtureProject, request, fixtureServers, NODE_WORKER_MODES } from "./helpers.js";

const { start: startIn, track } = fixtureServers();

// Every suite below runs against both ways a node predictor runs (KILN_NODE_WORKER_MODE).
describe.each(NODE_WORKER_MODES)("%s worker", (mode) => {
  const start: typeof startIn = (name, extra = {}) => startIn(name, { nodeWorkerMode: mode, ...extra });

  describe("setup and health", () => {
    it("setup failure: SETUP_FAILED with setup logs, predictions 503", async () => {
      const s = await start("badSetup");
      const h = await request(s.url, "/health-check");
      expect(h.body.status).toBe("SETUP_FAILED");
      expect(h.body.setup.status).toBe("failed");
      expect(h.body.setup.logs).toContain("loading weights");
      expect(h.body.setup.logs).toContain("weights missing");
      const p = await request(s.url, "/predictions", { body: {} });
      expect(p.status).toBe(503);
      expect(p.body).toMatchObject({ status: "failed" });
      expect(p.body.error).toContain("weights missing");
      expect((await request(s.url, "/")).status).toBe(200);
      expect((await request(s.url, "/openapi.json")).status).toBe(200);
    });

    it("setup timeout: COG_SETUP_TIMEOUT turns a hanging setup into SETUP_FAILED", async () => {
      const s = await start("slowSetup", { setupTimeoutMs: 300 });
      const h = await request(s.url, "/health-check");
      expect(h.body.status).toBe("SETUP_FAILED");
      expect(h.body.setup.logs).toContain("setting up slowly");
      expect(h.body.setup.logs).toMatch(/did not finish within COG_SETUP_TIMEOUT/);
      await eventually(() => expect(s.worker.alive).toBe(false));
    });

    it("STARTING while setup runs: 503 for predictions; health, discovery and openapi answer", async () => {
      const fx = await fixtureProject();
      const s = await startServer({
        root: fx.root,
        predictor: { language: "node", file: fx.module, name: "slowSetup" },
        host: "127.0.0.1",
        port: 0,
        logLevel: "silent",
        nodeWorkerEntry: fx.worker,
      });
      track(s);
      expect((await request(s.url, "/")).status).toBe(200);
      expect((await request(s.url, "/health-check")).body.status).toBe("STARTING");
      const p = await request(s.url, "/predictions", { body: {} });
      expect(p.status).toBe(503);
      expect(p.body).toEqual({
        error: "the model is not ready yet: setup is still running",
        status: "failed",
      });
      await eventually(async () => expect((await request(s.url, "/openapi.json")).status).toBe(200));
      expect((await request(s.url, "/health-check")).body.setup.status).toBe("starting");
    });

    it("user healthcheck: UNHEALTHY when it returns false or hangs > timeout, READY again after", async () => {
      const s = await start("health");
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
      expect((await request(s.url, "/health-check")).body.setup.logs).toBe("setup log line\n");
      await request(s.url, "/predictions", { body: { input: { healthy: false } } });
      const bad = await request(s.url, "/health-check");
      expect(bad.body.status).toBe("UNHEALTHY");
      expect(bad.body.user_healthcheck_error).toBe("user-defined healthcheck returned False");
      await request(s.url, "/predictions", { body: { input: { healthy: true } } });
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    });

    it("user healthcheck that takes too long is UNHEALTHY", async () => {
      const s = await start("health");
      (s.health as unknown as { healthcheckTimeoutMs: number }).healthcheckTimeoutMs = 200;
      await request(s.url, "/predictions", { body: { input: { hang: true } } });
      const r = await request(s.url, "/health-check");
      expect(r.body.status).toBe("UNHEALTHY");
      expect(r.body.user_healthcheck_error).toBe("user-defined healthcheck timed out after 0.2 seconds");
    });
  });

  describe("user code misbehaving", () => {
    it("a predictor that throws: 200 with status failed, the error and its logs", async () => {
      const s = await start("throws");
      const r = await request(s.url, "/predictions", { body: {} });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "failed", error: "kaboom from user code", output: null });
      expect(r.body.logs).toContain("about to fail");
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    });

    it("process.exit in predict with restarts disabled: the prediction fails clearly, health DEFUNCT, server still answers", async () => {
      const s = await start("exits", { maxWorkerRestarts: 0 });
      const r = await request(s.url, "/predictions", { body: {} });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("failed");
      expect(r.body.error).toMatch(/worker is gone.*exited with code 3/);
      expect(r.body.logs).toContain("bye");
      const h = await request(s.url, "/health-check");
      expect(h.body.status).toBe("DEFUNCT");
      const again = await request(s.url, "/predictions", { body: {} });
      expect(again.status).toBe(503);
      expect(again.body.error).toMatch(/worker is gone/);
    });

    it("a predictor that leaks megabytes of stdout: logs are captured and bounded, server fine", async () => {
      const s = await start("chatty");
      const r = await request(s.url, "/predictions", { body: { input: { mb: 12 } } });
      expect(r.body.status).toBe("succeeded");
      expect(r.body.logs.length).toBeGreaterThan(7 * 1024 * 1024);
      expect(r.body.logs.length).toBeLessThan(9 * 1024 * 1024);
      expect(r.body.logs).toMatch(/bytes of logs were dropped/);
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    });
  });

  describe("trainings", () => {
    it("serves /trainings when a trainer is configured", async () => {
      const s = await start("trainer", { train: { language: "node", file: "", name: "train" } });
      const d = await request(s.url, "/");
      expect(d.body.trainings_url).toBe("/trainings");
      const t = await request(s.url, "/trainings", { body: { input: { steps: 3 } } });
      expect(t.body).toMatchObject({ status: "succeeded", output: "trained 3" });
      const bad = await request(s.url, "/trainings", { body: { input: {} } });
      expect(bad.status).toBe(422);
      const p = await request(s.url, "/predictions", { body: { input: { text: "q" } } });
      expect(p.body.output).toBe("predicted q");
      const put = await request(s.url, "/trainings/t1", { method: "PUT", body: { input: { steps: 1 } } });
      expect(put.body).toMatchObject({ id: "t1", output: "trained 1" });
    });
  });

  describe("shutdown", () => {
    it("POST /shutdown answers {} and lets in-flight predictions finish", async () => {
      const s = await start("slow");
      const inflight = request(s.url, "/predictions", { body: { input: { ms: 400 } } });
      await eventually(() => expect(s.runner.inFlight).toBe(1));
      const r = await request(s.url, "/shutdown", { method: "POST" });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
      const done = await inflight;
      expect(done.body.status).toBe("succeeded");
      await s.closed;
      expect(s.worker.alive).toBe(false);
      await expect(request(s.url, "/")).rejects.toThrow();
    });

    it("close() cancels what does not finish within the drain timeout", async () => {
      const s = await start("slow", { drainTimeoutMs: 200 });
      const inflight = request(s.url, "/predictions", { body: { input: { ms: 30_000 } } });
      await eventually(() => expect(s.runner.inFlight).toBe(1));
      await s.close();
      const r = await inflight;
      expect(r.body.status).toBe("canceled");
    });
  });
});
