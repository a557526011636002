/**
 * The fault suite (bounded in time): predictors that throw, exit, get killed, hang, ignore cancel,
 * reject unhandled, return huge or unserialisable outputs; /v1 under 600 concurrent creates with a
 * cancel storm and stalled SSE readers. Every created prediction reaches a terminal state and is
 * accounted for; the server ends READY with nothing in flight or queued. (Hostile HTTP input — bodies,
 * smuggling shapes, slowloris, dropped connections — is hostile.test.ts.)
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { sseBufferedBytes } from "../../src/runtime/sse.js";
import { eventually, request, startFixture } from "./helpers.js";

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

describe("predictor faults, one after another on one server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("faulty", { cancelGraceMs: 300, restartBackoffMs: [100] });
  });
  afterAll(() => server.close());

  const run = (mode: string) => request(server.url, "/predictions", { body: { input: { mode } } });
  const ready = () =>
    eventually(
      async () => expect((await request(server.url, "/health-check")).body.status).toBe("READY"),
      15_000,
    );

  it.each([
    ["throw", "failed", /faulty: thrown/],
    ["exit", "failed", /exited with code 4/],
    ["kill", "failed", /killed by SIGKILL/],
    ["reject", "failed", /unhandled promise rejection: faulty: unhandled/],
    ["nan", "failed", /output is NaN/],
    ["huge", "succeeded", null],
    ["ok", "succeeded", null],
  ] as const)("%s: ends %s, and the server is READY again", async (mode, status, error) => {
    const r = await run(mode);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe(status);
    if (error) expect(r.body.error).toMatch(error);
    if (mode === "huge") expect(r.body.output.length).toBe(20 * 1024 * 1024);
    await ready();
    expect(server.runner.inFlight).toBe(0);
  });

  it("hang + cancel: ends canceled after the grace period; the worker is replaced", async () => {
    const created = await request(server.url, "/predictions", {
      body: { id: "fault-hang", input: { mode: "hang" } },
      headers: { prefer: "respond-async" },
    });
    expect(created.status).toBe(202);
    await eventually(() => expect(server.runner.get("fault-hang")?.status).toBe("processing"));
    const p = server.runner.get("fault-hang")!;
    await request(server.url, "/predictions/fault-hang/cancel", { method: "POST" });
    expect((await p.finished).status).toBe("canceled");
    await ready();
    expect((await run("ok")).body.status).toBe("succeeded");
  });

  it("a batch of every fault at once through /v1 (queued on one slot): all terminal, all accounted for", async () => {
    const modes = ["ok", "throw", "reject", "nan", "exit", "ok", "slow", "kill", "ok", "throw"];
    const ids: string[] = [];
    for (const mode of modes) {
      const r = await request(server.url, "/v1/predictions", {
        body: { version: "x", input: { mode, ms: 200 } },
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const final = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => request(server.url, `/v1/predictions/${id}`)));
      for (const r of all) expect(TERMINAL.has(r.body.status)).toBe(true);
      return all.map((r) => r.body);
    }, 30_000);
    expect(final).toHaveLength(modes.length);
    // Failures are the faulty ones, or ones sharing a worker that died; "ok" never fails on its own.
    for (const [i, p] of final.entries()) {
      if (p.status === "failed" && modes[i] === "ok") expect(p.error).toMatch(/worker is gone/);
    }
    await ready();
    expect(server.runner.inFlight).toBe(0);
    expect(server.hosted.queue.length).toBe(0);
  });
});

describe("/v1 under load: 600 concurrent creates, a cancel storm, stalled SSE readers", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("faulty", {
      maxConcurrency: 8,
      hosted: { queueSize: 1000 },
      sseLimits: { maxBufferedBytes: 64 * 1024, stallTimeoutMs: 1000 },
    });
  });
  afterAll(() => server.close());

  it(
    "every prediction ends succeeded or canceled, each cancel is harmless, nothing is left over",
    { tags: ["slow"] },
    async () => {
      const N = 600;
      const created = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          request(server.url, "/v1/predictions", {
            body: { version: "x", input: { mode: "slow", ms: i % 3 === 0 ? 200 : 5 } },
          }),
        ),
      );
      expect(created.map((r) => r.status).every((s) => s === 201)).toBe(true);
      const ids = created.map((r) => r.body.id as string);
      expect(new Set(ids).size).toBe(N);
      // A few readers that never read, on the first streams.
      const stalled = ids.slice(0, 5).map((id) => {
        const s = connect(server.port, "127.0.0.1");
        s.write(`GET /v1/predictions/${id}/stream HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n`);
        s.pause();
        s.on("error", () => undefined);
        return s;
      });
      // Cancel every other one, each twice, all at once.
      const toCancel = ids.filter((_, i) => i % 2 === 1);
      const cancels = await Promise.all(
        [...toCancel, ...toCancel].map((id) =>
          request(server.url, `/v1/predictions/${id}/cancel`, { method: "POST" }),
        ),
      );
      expect(cancels.every((r) => r.status === 200)).toBe(true);
      const final = await eventually(async () => {
        const page = await Promise.all(ids.map((id) => request(server.url, `/v1/predictions/${id}`)));
        for (const r of page) expect(TERMINAL.has(r.body.status)).toBe(true);
        return page.map((r) => r.body);
      }, 60_000);
      const counts = { succeeded: 0, failed: 0, canceled: 0 } as Record<string, number>;
      for (const p of final) counts[p.status] = (counts[p.status] ?? 0) + 1;
      expect(counts.failed).toBe(0);
      expect(counts.succeeded! + counts.canceled!).toBe(N);
      // Every canceled one was asked to cancel; the ones not asked all succeeded.
      const canceledIds = new Set(final.filter((p) => p.status === "canceled").map((p) => p.id));
      for (const id of canceledIds) expect(toCancel).toContain(id);
      expect(final.filter((p, i) => i % 2 === 0).every((p) => p.status === "succeeded")).toBe(true);
      expect(server.runner.inFlight).toBe(0);
      expect(server.hosted.queue.length).toBe(0);
      expect((await request(server.url, "/health-check")).body.status).toBe("READY");
      for (const s of stalled) s.destroy();
      await eventually(() => expect(sseBufferedBytes()).toEqual([]));
    },
  );
});
