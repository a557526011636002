import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { InterruptedError, RuntimeStartError } from "../../src/errors.js";
import { predict, waitForReady } from "../../src/prediction/client.js";
// @ts-expect-error: a plain .mjs test fixture without types
import { startFakeModel } from "./fixtures/fake-model.mjs";

type Fake = { url: string; server: Server; close: () => Promise<void> };
const started: Fake[] = [];
async function fake(opts: Record<string, unknown>): Promise<Fake> {
  const m = (await startFakeModel(opts)) as Fake;
  started.push(m);
  return m;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.close()));
});

const never = new AbortController().signal;

describe("waitForReady", () => {
  it("polls through STARTING until READY", async () => {
    const m = await fake({ setupMs: 150 });
    const t0 = Date.now();
    expect((await waitForReady(m.url, { timeoutMs: 5000, signal: never })).status).toBe("READY");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it("reports SETUP_FAILED with the setup logs", async () => {
    const m = await fake({ mode: "setup_failed", setupMs: 50 });
    const err = await waitForReady(m.url, { timeoutMs: 5000, signal: never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeStartError);
    expect((err as RuntimeStartError).message).toBe("the model's setup() failed");
    expect((err as RuntimeStartError).details).toEqual(["loading weights", "RuntimeError: weights missing"]);
  });

  it("times out with a hint, and stops when the process exits", async () => {
    const m = await fake({ setupMs: 60_000 });
    await expect(waitForReady(m.url, { timeoutMs: 200, signal: never })).rejects.toMatchObject({
      message: "the model was not ready after 0 s (status: STARTING)",
      hint: expect.stringContaining("--setup-timeout"),
    });
    await expect(
      waitForReady("http://127.0.0.1:9", {
        timeoutMs: 5000,
        signal: never,
        exited: Promise.resolve(3),
        tail: () => ["bye"],
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining("exit status 3"), details: ["bye"] });
  });

  it("a stop of the model ends the pause between polls at once", async () => {
    const m = await fake({ setupMs: 60_000 });
    let exit!: (status: number) => void;
    const exited = new Promise<number>((r) => (exit = r));
    // Exit once the client has seen STARTING: with a pause of ten minutes, only the exit can end the wait.
    m.server.once("request", (_req, res) => res.once("finish", () => exit(3)));
    await expect(
      waitForReady(m.url, { timeoutMs: 600_000, intervalMs: 600_000, signal: never, exited }),
    ).rejects.toMatchObject({ message: expect.stringContaining("exit status 3") });
  });

  it("takes a READY the server announced on its output as the answer, without a request", async () => {
    const m = await fake({ setupMs: 60_000 }); // would answer STARTING for a minute
    let requests = 0;
    m.server.on("request", () => requests++);
    const ready = await waitForReady(m.url, { timeoutMs: 300, signal: never, announced: () => true });
    expect(ready).toEqual({ status: "READY" });
    expect(requests).toBe(0);
    // Not announced: it asks, and waits.
    await expect(
      waitForReady(m.url, { timeoutMs: 300, signal: never, announced: () => false }),
    ).rejects.toMatchObject({ message: "the model was not ready after 0 s (status: STARTING)" });
    expect(requests).toBeGreaterThan(0);
  });

  it("stops waiting on Ctrl-C", async () => {
    const m = await fake({ setupMs: 60_000 });
    const ac = new AbortController();
    // Ctrl-C once the client is polling a model that is still STARTING.
    m.server.once("request", () => ac.abort());
    await expect(waitForReady(m.url, { timeoutMs: 5000, signal: ac.signal })).rejects.toBeInstanceOf(
      InterruptedError,
    );
  });
});

describe("predict", () => {
  it("streams output chunks and logs over SSE, then returns the prediction", async () => {
    const m = await fake({ setupMs: 0 });
    const chunks: unknown[] = [];
    const logs: string[] = [];
    const r = await predict(m.url, {
      input: { text: "a b c" },
      signal: never,
      onOutput: (c) => void chunks.push(c),
      onLog: (t) => void logs.push(t),
    });
    expect(chunks).toEqual(["a", "b", "c"]);
    expect(logs).toEqual(["predicting\n"]);
    expect(r.prediction).toMatchObject({ status: "succeeded", output: ["a", "b", "c"] });
    expect(r.streamed).toBe(true);
  });

  it("accepts plain JSON answers from servers without SSE", async () => {
    const m = await fake({ mode: "json", setupMs: 0 });
    const r = await predict(m.url, { input: { text: "x y" }, signal: never });
    expect(r).toMatchObject({ streamed: false, prediction: { status: "succeeded", output: ["x", "y"] } });
  });

  it("returns failed predictions as data", async () => {
    const m = await fake({ setupMs: 0 });
    const r = await predict(m.url, { input: { fail: true }, signal: never });
    expect(r.prediction).toMatchObject({ status: "failed", error: "boom: asked to fail" });
  });

  it("cancels the prediction on the server when interrupted", async () => {
    const m = await fake({ setupMs: 0 });
    const ac = new AbortController();
    const chunks: unknown[] = [];
    const pending = predict(m.url, {
      input: { text: "1 2 3 4 5 6 7 8 9", delay_ms: 100 },
      signal: ac.signal,
      onOutput: (c) => {
        chunks.push(c);
        if (chunks.length === 2) ac.abort();
      },
    });
    const r = await pending;
    expect(r.interrupted).toBe(true);
    expect(r.prediction.status).toBe("canceled");
    expect(chunks.length).toBeLessThan(5);
  });
});
