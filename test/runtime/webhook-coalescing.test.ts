/**
 * Defect 8: webhook bytes no longer grow with the square of the output chunks. Non-terminal webhooks
 * are coalesced to one per throttle interval; the terminal webhook is always sent, last.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { eventually, request, startFixture, startReceiver } from "./helpers.js";

const THROTTLE_MS = 200;

describe("webhook coalescing", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("bigStream", { throttleMs: THROTTLE_MS });
  });
  afterAll(() => server.close());

  it("500 × 1 KB output chunks cost a few webhooks, not 500 growing ones; completed carries everything", async () => {
    const hook = await startReceiver();
    try {
      const started = Date.now();
      const r = await request(server.url, "/predictions", {
        body: { input: { n: 500, kb: 1, logs: true }, webhook: hook.url },
        headers: { prefer: "respond-async" },
      });
      expect(r.status).toBe(202);
      await eventually(() => expect(JSON.parse(hook.received.at(-1)?.body ?? "{}").status).toBe("succeeded"));
      const elapsed = Date.now() - started;
      const bodies = hook.received.map((x) => JSON.parse(x.body));
      const final = bodies.at(-1);
      expect(final.output).toHaveLength(500);
      expect(final.logs).toContain("line 499");
      // At most one progress send per interval (plus the first one at once), then the terminal one.
      expect(hook.received.length).toBeLessThanOrEqual(Math.ceil(elapsed / THROTTLE_MS) + 2);
      const total = hook.received.reduce((n, x) => n + x.body.length, 0);
      const finalSize = hook.received.at(-1)!.body.length;
      // Every-chunk sends would total ~250 × the final body (about 125 MB here).
      expect(total).toBeLessThan(finalSize * (hook.received.length + 1));
      expect(bodies.filter((b) => b.status === "succeeded")).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it("sends the terminal webhook even when the filter has only completed, and only once", async () => {
    const hook = await startReceiver();
    // Its own server: closing it drains its webhook deliveries, so after that nothing more can arrive.
    const own = await startFixture("bigStream", { throttleMs: THROTTLE_MS });
    try {
      await request(own.url, "/predictions", {
        body: { input: { n: 20, kb: 1 }, webhook: hook.url, webhook_events_filter: ["completed"] },
      });
      await own.close();
      expect(hook.received).toHaveLength(1);
      expect(JSON.parse(hook.received[0]!.body).output).toHaveLength(20);
    } finally {
      await own.close();
      await hook.close();
    }
  });
});
