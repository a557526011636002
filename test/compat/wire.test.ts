/**
 * Wire behaviours a Cog client relies on that need more than one request at a time: canceling a
 * sync PUT prediction from another connection, and SSE for an iterator predictor without @streaming.
 */
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { CASES_DIR, parseSse, startCaseServer } from "./corpus.js";

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(name: string): Promise<RunningServer> {
  const s = await startCaseServer(join(CASES_DIR, "wire-sleep"), name);
  servers.push(s);
  return s;
}

describe("Cog wire behaviours", () => {
  test("a sync prediction created with PUT is canceled by POST /predictions/{id}/cancel from another request", async () => {
    const s = await serve("Predictor");
    const put = fetch(`${s.url}/predictions/put-cancel-1`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { seconds: 30 } }),
    });
    // Wait for the worker to be inside predict() (its first log line), then cancel from a second request.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const p = s.runner.get("put-cancel-1");
        if (p?.logs.includes("sleeping")) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
    const cancel = await fetch(`${s.url}/predictions/put-cancel-1/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    const res = await put;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; id: string };
    expect(body).toMatchObject({ id: "put-cancel-1", status: "canceled" });
    // Once it is over, the id is unknown to cancel, as in Cog.
    expect((await fetch(`${s.url}/predictions/put-cancel-1/cancel`, { method: "POST" })).status).toBe(404);
  });

  test("an iterator predictor without @streaming still streams over SSE (kiln's choice; Cog answers 406)", async () => {
    const s = await serve("Chunks");
    const res = await fetch(`${s.url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { n: 2 } }),
    });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual(["start", "output", "output", "completed"]);
    expect(events.at(-1)!.data).toMatchObject({ status: "succeeded", output: ["c0", "c1"] });
  });
});
