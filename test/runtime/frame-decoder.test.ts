/**
 * The protocol's frame decoder (defect 1): linear in the bytes received, whatever the chunking, and
 * exact for multi-byte UTF-8 text split at any byte offset across pipe reads.
 */
import { describe, expect, it } from "vitest";
import { FrameDecoder, encodeFrame } from "../../src/runtime/protocol.js";

function collect(): { frames: unknown[]; errors: string[]; decoder: FrameDecoder<unknown> } {
  const frames: unknown[] = [];
  const errors: string[] = [];
  const decoder = new FrameDecoder<unknown>(
    (m) => frames.push(m),
    (e) => errors.push(e.message),
  );
  return { frames, errors, decoder };
}

function feed(decoder: FrameDecoder<unknown>, bytes: Buffer, chunkSize: number): void {
  for (let i = 0; i < bytes.length; i += chunkSize) decoder.push(bytes.subarray(i, i + chunkSize));
}

describe("frame decoder", () => {
  it("scans each byte once for a 20 MB frame arriving in 64 KiB reads (linear, not quadratic)", () => {
    const { frames, decoder } = collect();
    const payload = "x".repeat(20 * 1024 * 1024);
    const bytes = Buffer.from(encodeFrame({ type: "done", id: "p", output: payload }));
    feed(decoder, bytes, 64 * 1024);
    expect(frames).toHaveLength(1);
    expect((frames[0] as { output: string }).output.length).toBe(payload.length);
    // The old decoder rescanned the whole growing buffer per chunk: ~320 times the frame size here.
    expect(decoder.bytesScanned).toBe(bytes.length);
    expect(decoder.buffered).toBe(0);
  });

  it("scans each byte once when many small frames arrive in odd-sized reads", () => {
    const { frames, decoder } = collect();
    const one = encodeFrame({ type: "log", id: "p", source: "stdout", data: "line\n" });
    const bytes = Buffer.from(one.repeat(10_000));
    feed(decoder, bytes, 777);
    expect(frames).toHaveLength(10_000);
    expect(decoder.bytesScanned).toBe(bytes.length);
  });

  it("keeps multi-byte characters intact when a read boundary falls at every byte offset", () => {
    const text = "é中😀".repeat(30) + "a";
    const frame = Buffer.from(encodeFrame({ type: "output", id: "p", chunk: text }));
    for (let cut = 1; cut < frame.length; cut++) {
      const { frames, errors, decoder } = collect();
      decoder.push(frame.subarray(0, cut));
      decoder.push(frame.subarray(cut));
      expect(errors).toEqual([]);
      expect((frames[0] as { chunk: string }).chunk).toBe(text);
    }
  });

  it("keeps multi-byte text intact for reads of every size around the 64 KiB pipe chunk", () => {
    const text = "é中".repeat(100_000) + "z";
    const frame = Buffer.from(encodeFrame({ type: "output", id: "p", chunk: text }));
    for (let size = 65_536 - 4; size <= 65_536 + 4; size++) {
      const { frames, decoder } = collect();
      feed(decoder, frame, size);
      const got = (frames[0] as { chunk: string }).chunk;
      expect(got.length).toBe(text.length);
      expect(got.includes("\uFFFD")).toBe(false);
    }
  });

  it("reports a malformed line and goes on with the next frame", () => {
    const { frames, errors, decoder } = collect();
    decoder.push('not json\n{"type":"ready"}\n');
    expect(errors).toHaveLength(1);
    expect(frames).toEqual([{ type: "ready" }]);
  });
});
