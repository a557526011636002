/**
 * Defect 5: a cancel the model ignores no longer holds its slot forever. After the grace period the
 * worker is killed and restarted; the prediction ends `canceled`; the slot frees; setup runs again.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { startPythonServer } from "../helpers/python-server.js";
import { eventually, request, startFixture } from "./helpers.js";

const PY_FIXTURES = fileURLToPath(new URL("./fixtures/python/", import.meta.url));
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each([
  ["typescript (thread)", () => startFixture("stubborn", { cancelGraceMs: 300 })],
  ["typescript (process)", () => startFixture("stubborn", { cancelGraceMs: 300, nodeWorkerMode: "process" })],
  ["python", () => startPythonServer(PY_FIXTURES, { name: "Stubborn" }, { cancelGraceMs: 300 })],
] as const)("%s model that ignores cancel", (_lang, start) => {
  it("is killed after the grace period: the prediction ends canceled, the slot frees, the worker comes back", async () => {
    const s = await start();
    servers.push(s);
    const pid = s.worker.workerId;
    const created = await request(s.url, "/predictions", {
      body: { id: "stubborn-1", input: {} },
      headers: { prefer: "respond-async" },
    });
    expect(created.status).toBe(202);
    // The predictor's first log line: it runs (a cancel before that is an ordinary one, no kill needed).
    await eventually(() => expect(s.runner.get("stubborn-1")?.logs).toMatch(/ignoring any cancel/));
    expect((await request(s.url, "/health-check")).body.status).toBe("BUSY");
    const p = s.runner.get("stubborn-1")!;
    expect((await request(s.url, "/predictions/stubborn-1/cancel", { method: "POST" })).status).toBe(200);
    const finished = await p.finished;
    expect(finished.status).toBe("canceled");
    expect(s.runner.inFlight).toBe(0);
    await eventually(async () => {
      expect((await request(s.url, "/health-check")).body.status).toBe("READY");
    }, 15_000);
    expect(s.worker.workerId).not.toBe(pid);
    const next = await request(s.url, "/predictions", {
      body: { input: { [_lang === "python" ? "seconds" : "ms"]: 0 } },
    });
    expect(next.body.status).toBe("succeeded");
  });
});
