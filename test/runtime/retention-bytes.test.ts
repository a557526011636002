/**
 * Defect 6: finished /v1 predictions are kept within a byte budget (not only a count): the oldest are
 * evicted first, and looking one up afterwards is a clear 404 that says it was evicted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { DEFAULT_RETAIN_BYTES } from "../../src/runtime/v1/registry.js";
import { request, startFixture } from "./helpers.js";

const BUDGET = 6 * 1024 * 1024;

describe("retention by bytes", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("chatty", { hosted: { retainBytes: BUDGET } });
  });
  afterAll(() => server.close());

  it("keeps finished predictions with 1 MiB of logs each within the budget, evicting the oldest", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await request(server.url, "/v1/predictions", {
        body: { version: "x", input: { mb: 1 } },
        headers: { prefer: "wait" },
      });
      expect(r.body.status).toBe("succeeded");
      ids.push(r.body.id);
    }
    await new Promise((r) => setImmediate(r));
    const list = await request(server.url, "/v1/predictions");
    const kept: string[] = list.body.results.map((p: { id: string }) => p.id);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(8);
    // Newest first, and the newest are the ones kept.
    expect(kept).toEqual(ids.slice(-kept.length).reverse());
    const logBytes = list.body.results.reduce((n: number, p: { logs: string }) => n + p.logs.length, 0);
    expect(logBytes).toBeLessThanOrEqual(BUDGET);
    const gone = await request(server.url, `/v1/predictions/${ids[0]}`);
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toMatch(/evicted/);
    expect(gone.body.detail).toMatch(/KILN_RETAIN_BYTES/);
    const unknown = await request(server.url, "/v1/predictions/never-existed");
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).not.toMatch(/evicted/);
    expect((await request(server.url, `/v1/predictions/${ids[7]}`)).status).toBe(200);
  });

  it("has a documented default budget of 256 MiB", () => {
    expect(DEFAULT_RETAIN_BYTES).toBe(256 * 1024 * 1024);
  });
});
