/**
 * Defect 7: SSE clients that never read no longer make the server buffer the whole stream for each of
 * them: each is capped, a stalled one is disconnected, and it can resume with Last-Event-ID.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { sseBufferedBytes } from "../../src/runtime/sse.js";
import { eventually, request, startFixture } from "./helpers.js";

const CAP = 256 * 1024;
const CHUNK = 100 * 1024;
const N = 200; // 20 MB of output

interface Reader {
  socket: Socket;
  /** Everything received, once the server closed the connection (read after resume()). */
  received: Promise<string>;
}

function stalledReader(port: number, path: string): Reader {
  const socket = connect(port, "127.0.0.1");
  socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n`);
  socket.pause(); // never reads: the kernel buffers fill, then the server's
  let text = "";
  socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
  const received = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(text));
    socket.on("error", () => resolve(text));
  });
  return { socket, received };
}

describe("SSE backpressure", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("bigStream", { sseLimits: { maxBufferedBytes: CAP, stallTimeoutMs: 1500 } });
  });
  afterAll(() => server.close());

  it("10 stalled /v1 readers of a 20 MB stream each hold at most the cap, are dropped, and can resume", async () => {
    const created = await request(server.url, "/v1/predictions", {
      body: { version: "x", input: { n: N, kb: CHUNK / 1024 } },
    });
    expect(created.status).toBe(201);
    const path = new URL(created.body.urls.stream).pathname;
    const readers = Array.from({ length: 10 }, () => stalledReader(server.port, path));
    await eventually(() => expect(sseBufferedBytes().length).toBe(10));
    let peak = 0;
    await eventually(async () => {
      for (const b of sseBufferedBytes()) peak = Math.max(peak, b);
      const got = await request(server.url, `/v1/predictions/${created.body.id}`);
      expect(got.body.status).toBe("succeeded");
    }, 30_000);
    // One event may go past the cap (it is written whole), never the stream.
    expect(peak).toBeLessThanOrEqual(CAP + CHUNK + 1024);
    // Each stalled reader is disconnected by the server before the end of the stream.
    await eventually(() => expect(sseBufferedBytes()).toEqual([]), 10_000);
    for (const r of readers) r.socket.resume();
    const texts = await Promise.all(readers.map((r) => r.received));
    for (const t of texts) {
      expect(t).toContain("event: output");
      expect(t).not.toContain("event: done");
    }
    // Resume after event 5: the rest of the stream arrives, from event 6 to done.
    const resumed = await fetch(created.body.urls.stream, { headers: { "last-event-id": "5" } });
    const text = await resumed.text();
    const ids = [...text.matchAll(/^id: (\d+)/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(6);
    expect(text).toContain("event: done");
    const outputs = [...text.matchAll(/^event: output\nid: \d+\ndata: (\d+):/gm)].map((m) => Number(m[1]));
    expect(outputs[outputs.length - 1]).toBe(N - 1);
  });

  it("a container-API SSE client that reads normally gets the whole stream", async () => {
    const res = await fetch(`${server.url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { n: 50, kb: 64 } }),
    });
    const text = await res.text();
    expect(text.match(/^event: output$/gm)).toHaveLength(50);
    expect(text).toContain("event: completed");
  });
});
