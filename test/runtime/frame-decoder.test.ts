/**
 * The protocol's frame decoder (defect 1): linear in the bytes received, whatever the chunking, and
 * exact for multi-byte UTF-8 text split at any byte offset across pipe reads; big outputs cross as
 * attachments that are neither scanned nor copied (bytes counted, not seconds).
 */
import { describe, expect, it } from "vitest";
import {
  FrameDecoder,
  detachInputs,
  encodeFrame,
  encodePredictFrame,
  encodeWorkerFrame,
} from "../../src/runtime/protocol.js";
import { JsonStringBytes, RawJson, jsonByteLength, stringifyJson } from "../../src/runtime/raw-json.js";

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

describe("attachments (big outputs after their frame)", () => {
  it("a 20 MB output crosses as an attachment: only its small header is scanned, the bytes are kept as sent", () => {
    const { frames, decoder } = collect();
    const payload = "x".repeat(20 * 1024 * 1024);
    const encoded = encodeWorkerFrame({ type: "done", id: "p", output: payload });
    expect(Array.isArray(encoded)).toBe(true);
    const bytes = Buffer.concat((encoded as (string | Buffer)[]).map((p) => Buffer.from(p)));
    const after = Buffer.from(encodeFrame({ type: "ready" }));
    feed(decoder, Buffer.concat([bytes, after]), 64 * 1024);
    expect(frames).toHaveLength(2);
    const done = frames[0] as { type: string; id: string; output: RawJson };
    expect(done.type).toBe("done");
    expect(done.output).toBeInstanceOf(RawJson);
    expect(done.output.bytes).toBe(payload.length + 2);
    expect(frames[1]).toEqual({ type: "ready" });
    // Scanned: the header line and the frame after it; never the 20 MB.
    expect(decoder.bytesScanned).toBe(bytes.length - done.output.bytes + after.length);
    expect(decoder.bytesAttached).toBe(done.output.bytes);
    expect(done.output.value()).toBe(payload);
  });

  it("text that needs escaping is serialized once and still round-trips, split at every read size", () => {
    const text = 'say "hi"\n\\ é中😀 '.repeat(20_000);
    const encoded = encodeWorkerFrame({ type: "output", id: "p", chunk: { text } }) as (string | Buffer)[];
    const bytes = Buffer.concat(encoded.map((p) => Buffer.from(p)));
    for (const size of [1000, 65_536, 65_537, bytes.length]) {
      const { frames, errors, decoder } = collect();
      feed(decoder, bytes, size);
      expect(errors).toEqual([]);
      const out = frames[0] as { type: string; chunk: RawJson };
      expect(out.type).toBe("output");
      expect(out.chunk.value()).toEqual({ text });
    }
  });

  it("small values stay inline, identical to a plain frame", () => {
    const m = { type: "done", id: "p", output: { a: [1, "two"] } } as const;
    expect(encodeWorkerFrame(m)).toBe(encodeFrame(m));
  });

  it("a response splices the kept bytes between the JSON around them", async () => {
    const raw = new RawJson([Buffer.from('"ab'), Buffer.from('c"')], 5);
    const parts = stringifyJson({ id: "p", output: raw, logs: "" });
    expect(Array.isArray(parts)).toBe(true);
    expect(Buffer.concat((parts as (string | Buffer)[]).map((p) => Buffer.from(p))).toString()).toBe(
      '{"id":"p","output":"abc","logs":""}',
    );
    expect(jsonByteLength(parts)).toBe(Buffer.byteLength('{"id":"p","output":"abc","logs":""}'));
    // Outside stringifyJson it is just its value.
    expect(JSON.stringify({ output: raw })).toBe('{"output":"abc"}');
    expect(await raw.mentions('c"')).toBe(true);
    expect(await raw.mentions("bc")).toBe(true);
    expect(await raw.mentions("$file")).toBe(false);
  });

  it("a malformed attachment header is reported, not waited for", () => {
    const { frames, errors, decoder } = collect();
    decoder.push('{"type":"done","id":"p","rawField":"output","rawBytes":-3}\n{"type":"ready"}\n');
    expect(errors).toHaveLength(1);
    expect(frames).toEqual([{ type: "ready" }]);
  });
});

describe("input attachments (big request strings, server -> worker)", () => {
  /** A predict frame for `input` whose big strings were kept as request bytes by the body scanner. */
  function predictBytes(input: Record<string, unknown>): { bytes: Buffer; attached: number } {
    const { input: inline, attachments } = detachInputs(input);
    const frame = encodePredictFrame(
      { type: "predict", id: "p", kind: "predict", input, context: {} },
      JSON.stringify(inline),
      attachments,
    );
    const pieces = typeof frame === "string" ? [frame] : frame;
    const attached = attachments.reduce((n, a) => n + a.value.bytes + 1, 0);
    return { bytes: Buffer.concat(pieces.map((p) => Buffer.from(p))), attached };
  }
  const kept = (text: string): JsonStringBytes => {
    const literal = Buffer.from(JSON.stringify(text));
    const escaped = literal.includes(0x5c);
    return new JsonStringBytes([literal], literal.length, [...text].length, escaped);
  };

  it("a 20 MB string input: the worker scans only the frame line and gets the string in place", () => {
    const text = "i".repeat(20 * 1024 * 1024);
    const input = { prompt: kept(text), n: 2, list: ["a", kept("é中".repeat(200_000))] };
    const { bytes, attached } = predictBytes(input);
    const { frames, errors, decoder } = collect();
    feed(decoder, Buffer.concat([bytes, Buffer.from(encodeFrame({ type: "shutdown" }))]), 64 * 1024);
    expect(errors).toEqual([]);
    expect(frames).toHaveLength(2);
    const m = frames[0] as { type: string; input: { prompt: string; n: number; list: string[] } };
    expect(m.type).toBe("predict");
    expect("rawInputs" in m).toBe(false);
    expect(m.input.prompt === text).toBe(true);
    expect(m.input.n).toBe(2);
    expect(m.input.list[0]).toBe("a");
    expect(m.input.list[1] === "é中".repeat(200_000)).toBe(true);
    // Work proportional to the frame line, not to the 21 MB of input.
    expect(decoder.bytesScanned).toBeLessThan(400);
    expect(decoder.bytesAttached).toBe(attached);
    expect(frames[1]).toEqual({ type: "shutdown" });
  });

  it("escaped text round-trips at every read size; the caller's input is left as it was", () => {
    const text = 'q "x"\n\\ \u0001 😀 '.repeat(3000);
    const input = { a: kept(text), b: { c: [kept(text)] } };
    const { bytes } = predictBytes(input);
    expect(input.a).toBeInstanceOf(JsonStringBytes);
    for (const size of [1, 7, 4096, 65_536]) {
      const { frames, errors, decoder } = collect();
      feed(decoder, bytes, size);
      expect(errors).toEqual([]);
      const m = frames[0] as { input: { a: string; b: { c: string[] } } };
      expect(m.input.a === text && m.input.b.c[0] === text).toBe(true);
    }
  });

  it("an input without big strings is the same one-line frame as before", () => {
    const { bytes, attached } = predictBytes({ text: "small" });
    expect(attached).toBe(0);
    expect(bytes.toString()).toBe(
      encodeFrame({ type: "predict", id: "p", kind: "predict", context: {}, input: { text: "small" } }),
    );
  });

  it("a malformed input attachment header is reported, not waited for", () => {
    const { frames, errors, decoder } = collect();
    decoder.push(
      '{"type":"predict","id":"p","input":{},"rawInputs":[{"path":[],"bytes":3}]}\n{"type":"ready"}\n',
    );
    expect(errors).toEqual(["malformed input attachment header (rawInputs)"]);
    expect(frames).toEqual([{ type: "ready" }]);
  });
});
