/**
 * The Python worker's side of the framing (issue 15): a big output leaves as a small frame plus the
 * value's JSON as an attachment, which the server's decoder takes without scanning; small values stay
 * one inline frame. Counted in bytes, not seconds.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FrameDecoder, detachInputs, encodePredictFrame } from "../../../src/runtime/protocol.js";
import { JsonStringBytes, RawJson } from "../../../src/runtime/raw-json.js";
import { PYTHON, WORKER_DIR } from "./harness.js";

/** The bytes encode_parts() makes for `message` (a Python expression), joined, and the piece count. */
function pythonParts(message: string): { bytes: Buffer; pieces: number } {
  const code = [
    "import sys",
    "from cog.server.channel import encode_parts",
    `parts = encode_parts(${message})`,
    "sys.stderr.write(str(len(parts)))",
    "sys.stdout.buffer.write(b''.join(parts))",
  ].join("\n");
  const run = spawnSync(PYTHON, ["-c", code], {
    cwd: WORKER_DIR,
    env: { ...process.env, PYTHONPATH: WORKER_DIR },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr.toString()}`);
  const bytes = run.stdout;
  const pieces = Number(run.stderr.toString());
  return { bytes, pieces };
}

function decode(bytes: Buffer): { frames: Record<string, unknown>[]; decoder: FrameDecoder<unknown> } {
  const frames: Record<string, unknown>[] = [];
  const decoder = new FrameDecoder<unknown>(
    (m) => frames.push(m as Record<string, unknown>),
    (e) => {
      throw e;
    },
  );
  for (let i = 0; i < bytes.length; i += 65_536) decoder.push(bytes.subarray(i, i + 65_536));
  return { frames, decoder };
}

describe("python worker framing", () => {
  it("a 10 MB output is a small frame and an attachment: the decoder scans only the frame", () => {
    const { bytes, pieces } = pythonParts('{"type": "done", "id": "p", "output": "é" * 5_000_000}');
    expect(pieces).toBe(2);
    const { frames, decoder } = decode(bytes);
    expect(frames).toHaveLength(1);
    const output = frames[0]!.output as RawJson;
    expect(output).toBeInstanceOf(RawJson);
    expect(decoder.bytesScanned).toBeLessThan(200);
    expect(decoder.bytesAttached).toBe(bytes.length - decoder.bytesScanned);
    expect((output.value() as string).length).toBe(5_000_000);
  });

  it("iterator chunks are attached the same way; small values stay one inline frame", () => {
    const big = pythonParts('{"type": "output", "id": "p", "chunk": {"text": "x" * 400_000}}');
    expect(big.pieces).toBe(2);
    const got = decode(big.bytes).frames[0]!;
    expect(got.type).toBe("output");
    expect((got.chunk as RawJson).value()).toEqual({ text: "x".repeat(400_000) });

    const small = pythonParts('{"type": "done", "id": "p", "output": {"a": [1, "two"]}}');
    expect(small.pieces).toBe(1);
    expect(decode(small.bytes).frames).toEqual([{ type: "done", id: "p", output: { a: [1, "two"] } }]);
  });
});

describe("python worker: input attachments (server -> worker)", () => {
  const TEXT_HEAD = 'é "q"\n\\ 😀 ';
  /** What FrameReader delivers for `bytes`, read as file lines and as odd-sized chunks split on newlines. */
  function pythonReads(bytes: Buffer): { lines: unknown[]; chunks: unknown[]; stderr: string } {
    const code = [
      "import json, sys",
      "from cog.server.frames import FrameReader",
      "data = sys.stdin.buffer.read()",
      "def summary(out):",
      "    return [{k: (v if k != 'input' else {n: (len(x), hash(x)) if isinstance(x, str) else x for n, x in v.items()})",
      "             for k, v in m.items()} for m in out]",
      "lines, chunks = [], []",
      "import io",
      "feed = FrameReader(lines.append)",
      "for raw in io.BufferedReader(io.BytesIO(data), buffer_size=1 << 16):",
      "    feed(raw)",
      "feed = FrameReader(chunks.append)",
      "pending, at = [], 0",
      "while at < len(data):",
      "    piece, at = data[at:at + 5003], at + 5003",
      "    start = 0",
      "    while True:",
      "        nl = piece.find(b'\\n', start)",
      "        if nl < 0:",
      "            pending.append(piece[start:])",
      "            break",
      "        pending.append(piece[start:nl])",
      "        feed(b''.join(pending))",
      "        pending.clear()",
      "        start = nl + 1",
      "want = json.loads(sys.argv[1]) + 'z' * 300_000",
      "out = {'lines': summary(lines), 'chunks': summary(chunks), 'want': [len(want), hash(want)]}",
      "sys.stdout.write(json.dumps(out))",
    ].join("\n");
    const run = spawnSync(PYTHON, ["-c", code, JSON.stringify(TEXT_HEAD)], {
      cwd: WORKER_DIR,
      env: { ...process.env, PYTHONPATH: WORKER_DIR, PYTHONHASHSEED: "0" },
      input: bytes,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`python failed: ${String(run.stderr ?? run.error)}`);
    const out = JSON.parse(run.stdout.toString()) as { lines: unknown[]; chunks: unknown[]; want: unknown };
    return { lines: out.lines, chunks: out.chunks, stderr: JSON.stringify(out.want) };
  }

  it("big strings, plain and escaped, arrive in place whichever way fd 3 is read", () => {
    const text = TEXT_HEAD + "z".repeat(300_000);
    const literal = Buffer.from(JSON.stringify(text));
    const plain = Buffer.from(JSON.stringify("p".repeat(500_000)));
    const input = {
      text: new JsonStringBytes([literal], literal.length, [...text].length, true),
      plain: new JsonStringBytes([plain], plain.length, 500_000, false),
      n: 3,
    };
    const { input: inline, attachments } = detachInputs(input);
    const frame = encodePredictFrame(
      { type: "predict", id: "p", kind: "predict", input, context: {} },
      JSON.stringify(inline),
      attachments,
    );
    const bytes = Buffer.concat([
      ...(frame as (string | Buffer)[]).map((p) => Buffer.from(p)),
      Buffer.from('{"type":"shutdown"}\n'),
    ]);
    const { lines, chunks, stderr: want } = pythonReads(bytes);
    expect(chunks).toEqual(lines);
    expect(lines).toHaveLength(2);
    const m = lines[0] as {
      type: string;
      input: { text: [number, number]; plain: [number, number]; n: number };
    };
    expect(m.type).toBe("predict");
    expect(JSON.stringify(m.input.text)).toBe(want);
    expect(m.input.plain[0]).toBe(500_000);
    expect(m.input.n).toBe(3);
    expect(lines[1]).toEqual({ type: "shutdown" });
  });
});
