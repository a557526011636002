// /v1 SSE streams through the real replicate client (token by token, exact reassembly), Last-Event-ID
// reconnects, errors on the stream, and canceling a long prediction.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../runtime/helpers.js";
import { startV1, type V1Server } from "./helpers.js";

const TEXT = "Hello there,\nkiln streams   tokens\n\none by one — ünïcödé too.\n";

interface Sse {
  event: string;
  id: string;
  data: string;
}

function parse(body: string): Sse[] {
  return body
    .split("\n\n")
    .filter((b) => b.includes("event:"))
    .map((b) => {
      const lines = b.split("\n");
      return {
        event: lines.find((l) => l.startsWith("event: "))!.slice(7),
        id: lines.find((l) => l.startsWith("id: "))!.slice(4),
        data: lines
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n"),
      };
    });
}

describe("/v1 streaming", () => {
  let s: V1Server;
  beforeAll(async () => {
    s = await startV1("tokens");
  });
  afterAll(() => s.close());

  it("replicate.stream yields the output token by token and the text reassembles exactly", async () => {
    const events: { event: string; data: string; id?: string | undefined }[] = [];
    for await (const e of s.replicate.stream("acme/tokens", { input: { text: TEXT } })) events.push(e);
    const outputs = events.filter((e) => e.event === "output");
    expect(outputs.length).toBeGreaterThan(8);
    expect(outputs.map((e) => e.data).join("")).toBe(TEXT);
    expect(outputs.map(String).join("")).toBe(TEXT);
    expect(events.find((e) => e.event === "logs")?.data).toMatch(/^streaming \d+ tokens$/);
    expect(events[events.length - 1]).toMatchObject({ event: "done", data: "{}" });
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("the stream URL needs no Authorization and resumes after Last-Event-ID", async () => {
    const p = await s.replicate.predictions.create({ version: s.version, input: { text: TEXT, delay: 1 } });
    const full = parse(
      await (await fetch(p.urls.stream!, { headers: { accept: "text/event-stream" } })).text(),
    );
    expect(full[full.length - 1]!.event).toBe("done");
    const cut = full.findIndex((e) => e.event === "output") + 3;
    const resumed = parse(
      await (
        await fetch(p.urls.stream!, {
          headers: { accept: "text/event-stream", "last-event-id": full[cut]!.id },
        })
      ).text(),
    );
    expect(resumed).toEqual(full.slice(cut + 1));
    const text = full
      .filter((e) => e.event === "output")
      .map((e) => e.data)
      .join("");
    expect(text).toBe(TEXT);
  });
});

describe("/v1 stream errors and cancel", () => {
  it("a failing model's stream ends in an error the client raises with kiln's message", async () => {
    const s = await startV1("fails");
    try {
      const read = async (): Promise<void> => {
        for await (const _e of s.replicate.stream("acme/fails", { input: {} })) void _e;
      };
      await expect(read()).rejects.toThrow("the model refused: kiln-fixture-failure-42");
    } finally {
      await s.close();
    }
  });

  it("predictions.cancel stops a long prediction; the stream says done {reason: canceled}", async () => {
    const s = await startV1("slow");
    try {
      const p = await s.replicate.predictions.create({ version: s.version, input: { ms: 60000 } });
      const streamed = fetch(p.urls.stream!).then((r) => r.text());
      // Cancel a prediction that is running, not one still queued.
      await eventually(async () =>
        expect((await s.replicate.predictions.get(p.id)).status).toBe("processing"),
      );
      const t0 = Date.now();
      const canceled = await s.replicate.predictions.cancel(p.id);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(canceled.status).toBe("canceled");
      expect((await s.replicate.predictions.get(p.id)).status).toBe("canceled");
      const events = parse(await streamed);
      expect(events[events.length - 1]).toMatchObject({ event: "done", data: '{"reason":"canceled"}' });
      // The slot is free again: the next run goes straight through.
      expect(await s.replicate.run("acme/slow", { input: { ms: 10 } })).toBe("slept 10");
      // Canceling a queued prediction: it never runs.
      const running = await s.replicate.predictions.create({ version: s.version, input: { ms: 60000 } });
      const queued = await s.replicate.predictions.create({ version: s.version, input: { ms: 5 } });
      expect((await s.replicate.predictions.cancel(queued.id)).status).toBe("canceled");
      expect((await s.replicate.predictions.get(queued.id)).started_at).toBe(
        (await s.replicate.predictions.get(queued.id)).completed_at,
      );
      await s.replicate.predictions.cancel(running.id);
    } finally {
      await s.close();
    }
  });
});
