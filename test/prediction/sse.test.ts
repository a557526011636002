/** readSse: the same events whatever the chunking, blank lines split across chunks included. */
import { describe, expect, it } from "vitest";
import { readSse, type SseEvent } from "../../src/prediction/sse.js";

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

async function events(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSse(stream(chunks))) out.push(e);
  return out;
}

const TEXT =
  'event: log\ndata: {"data":"a"}\n\n' +
  ": a comment\r\nevent: output\r\ndata: line 1\r\ndata: line 2\r\nid: 7\r\n\r\n" +
  "data: café ☕\n\n\n" +
  'event: completed\ndata: {"status":"succeeded"}';
const EXPECTED: SseEvent[] = [
  { event: "log", data: '{"data":"a"}', id: undefined },
  { event: "output", data: "line 1\nline 2", id: "7" },
  { event: "message", data: "café ☕", id: undefined },
  { event: "completed", data: '{"status":"succeeded"}', id: undefined },
];

describe("readSse", () => {
  it("parses events, comments, CRLF, multi-line data and a last event without a blank line", async () => {
    expect(await events([TEXT])).toEqual(EXPECTED);
  });

  it("gives the same events for every split into two chunks and for one-byte chunks", async () => {
    for (let i = 1; i < TEXT.length; i++) {
      expect(await events([TEXT.slice(0, i), TEXT.slice(i)]), `split at ${i}`).toEqual(EXPECTED);
    }
    const bytes = [...new TextEncoder().encode(TEXT)];
    // One byte per chunk, multi-byte characters included: decoded as a stream, not per chunk.
    const oneByte = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(new Uint8Array([b]));
        controller.close();
      },
    });
    const out: SseEvent[] = [];
    for await (const e of readSse(oneByte)) out.push(e);
    expect(out).toEqual(EXPECTED);
  });

  it("joins a large event spread over many chunks", async () => {
    const big = "x".repeat(3_000_000);
    const text = `event: completed\ndata: ${big}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
    const got = await events(chunks);
    expect(got).toHaveLength(1);
    expect(got[0]?.data.length).toBe(big.length);
  });
});
