/**
 * Defect 11: the worker runs in its own process group and is stopped as a group, so what the model
 * started (a `sleep 300` from setup) does not outlive the server; and the shutdown drain is bounded, so
 * a webhook retrying to a dead receiver cannot hold the exit for its minute of retries.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAlive } from "../helpers/process.js";
import { startPythonServer } from "../helpers/python-server.js";
import { eventually, request, startFixture } from "./helpers.js";

const PY_FIXTURES = fileURLToPath(new URL("./fixtures/python/", import.meta.url));

describe.each([
  ["typescript (thread)", () => startFixture("spawner")],
  ["typescript (process)", () => startFixture("spawner", { nodeWorkerMode: "process" })],
  ["python", () => startPythonServer(PY_FIXTURES, { name: "Spawner" })],
] as const)("%s worker that starts a subprocess in setup", (_lang, start) => {
  it("runs in its own process group (or thread), and stopping the server stops the subprocess too", async () => {
    const s = await start();
    const r = await request(s.url, "/predictions", { body: {} });
    const sleeper = r.body.output as number;
    expect(sleeper).toBeGreaterThan(0);
    expect(isAlive(sleeper)).toBe(true);
    // A process worker leads its own group (pgid = its pid), so the group can be signalled as one; a
    // thread reports the processes it starts, and the server stops them with it.
    if (s.worker.mode === "process") expect(() => process.kill(-s.worker.pid!, 0)).not.toThrow();
    else expect(s.worker.mode).toBe("thread");
    await s.close();
    await eventually(() => expect(isAlive(sleeper)).toBe(false));
  });
});

describe("bounded drain", () => {
  it("close() abandons a webhook still retrying to a dead receiver after the drain bound", async () => {
    const s = await startFixture("noop", {
      // Production retry delays (about a minute in all), longer than this test's timeout.
      webhookRetryDelaysMs: [100, 200, 500, 1000, 2000, 4000, 8000, 12000, 16000, 16000],
      webhookDrainMs: 300,
    });
    const r = await request(s.url, "/predictions", {
      body: { webhook: "http://127.0.0.1:9/dead-receiver" },
      headers: { prefer: "respond-async" },
    });
    expect(r.status).toBe(202);
    await eventually(() => expect(s.runner.inFlight).toBe(0));
    await s.close();
    const v1 = await startFixture("noop", { webhookRetryDelaysMs: [30_000, 30_000], webhookDrainMs: 200 });
    await request(v1.url, "/v1/predictions", {
      body: { version: "x", webhook: "http://127.0.0.1:9/dead" },
      headers: { prefer: "wait" },
    });
    await v1.close();
  });
});
