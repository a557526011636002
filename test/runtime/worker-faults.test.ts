/**
 * Defect 4: an unhandled rejection (or an uncaught throw) in a TS predictor fails only the prediction
 * it came from; the worker lives. A worker that dies anyway is restarted (setup runs again) with backoff,
 * and health and logs say so.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { createLogger } from "../../src/runtime/logger.js";
import { eventually, request, startFixture, NODE_WORKER_MODES } from "./helpers.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// Every suite below runs against both ways a node predictor runs (KILN_NODE_WORKER_MODE).
describe.each(NODE_WORKER_MODES)("%s worker", (mode) => {
  async function start(extra: Parameters<typeof startFixture>[1] = {}): Promise<RunningServer> {
    const s = await startFixture("rejects", { maxConcurrency: 4, nodeWorkerMode: mode, ...extra });
    servers.push(s);
    return s;
  }

  describe("unhandled errors in user code", () => {
    it("an unhandled rejection fails only its own prediction; concurrent ones succeed, the worker lives", async () => {
      const s = await start();
      const pid = s.worker.workerId;
      const [bad, ...good] = await Promise.all([
        request(s.url, "/predictions", { body: { input: { mode: "reject" } } }),
        ...[50, 80, 120].map((ms) => request(s.url, "/predictions", { body: { input: { mode: "ok", ms } } })),
      ]);
      expect(bad!.body.status).toBe("failed");
      expect(bad!.body.error).toMatch(/unhandled promise rejection: forgotten promise/);
      expect(bad!.body.logs).toMatch(/forgotten promise/);
      expect(good.map((r) => r.body.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      expect(s.worker.workerId).toBe(pid);
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    });

    it("an exception thrown from a timer fails only its prediction too", async () => {
      const s = await start();
      const pid = s.worker.workerId;
      const r = await request(s.url, "/predictions", { body: { input: { mode: "throw-later" } } });
      expect(r.body.status).toBe("failed");
      expect(r.body.error).toMatch(/uncaught exception: thrown from a timer/);
      const after = await request(s.url, "/predictions", { body: { input: { mode: "ok" } } });
      expect(after.body.status).toBe("succeeded");
      expect(s.worker.workerId).toBe(pid);
    });
  });

  describe("worker restart policy", () => {
    it("restarts a dead worker after a backoff, runs setup again, reports restarts in health and logs", async () => {
      const lines: string[] = [];
      const logger = createLogger({ level: "info", format: "json", write: (l: string) => lines.push(l) });
      const s = await start({ restartBackoffMs: [300], logger });
      const before = await request(s.url, "/predictions", { body: { input: { mode: "setups" } } });
      expect(before.body.output).toBe("1");
      const died = await request(s.url, "/predictions", { body: { input: { mode: "exit" } } });
      expect(died.body.status).toBe("failed");
      expect(died.body.error).toMatch(/exited with code 9/);
      const during = await request(s.url, "/health-check");
      expect(during.body.status).toBe("STARTING");
      expect(during.body.last_worker_exit).toMatch(/exited with code 9/);
      expect((await request(s.url, "/predictions", { body: {} })).status).toBe(503);
      await eventually(async () => {
        expect((await request(s.url, "/health-check")).body.status).toBe("READY");
      });
      const h = await request(s.url, "/health-check");
      expect(h.body.restarts).toBe(1);
      expect(h.body.setup.logs).toContain("setup run 1"); // module state is fresh: setup ran in a new process
      const again = await request(s.url, "/predictions", { body: { input: { mode: "setups" } } });
      expect(again.body).toMatchObject({ status: "succeeded", output: "1" });
      expect(lines.some((l) => l.includes("restarting it"))).toBe(true);
    });

    it("queued /v1 predictions wait for the restarted worker instead of failing", async () => {
      const s = await start({ restartBackoffMs: [200], maxConcurrency: 1 });
      const dying = request(s.url, "/v1/predictions", {
        body: { version: "x", input: { mode: "exit" } },
        headers: { prefer: "wait" },
      });
      const queued = await request(s.url, "/v1/predictions", {
        body: { version: "x", input: { mode: "ok" } },
      });
      expect((await dying).body.status).toBe("failed");
      const done = await eventually(async () => {
        const r = await request(s.url, `/v1/predictions/${queued.body.id}`);
        expect(r.body.status).toBe("succeeded");
        return r;
      });
      expect(done.body.output).toBe("ok after 0");
    });

    it("gives up after the configured number of consecutive restarts: DEFUNCT", async () => {
      const s = await start({ restartBackoffMs: [50], maxWorkerRestarts: 1 });
      await request(s.url, "/predictions", { body: { input: { mode: "exit" } } });
      await eventually(async () => {
        expect((await request(s.url, "/health-check")).body.status).toBe("READY");
      });
      await request(s.url, "/predictions", { body: { input: { mode: "exit" } } });
      await eventually(async () => {
        expect((await request(s.url, "/health-check")).body.status).toBe("DEFUNCT");
      });
    });
  });
});
