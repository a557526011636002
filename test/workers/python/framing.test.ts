/**
 * The Python worker's side of the framing (issue 15): a big output leaves as a small frame plus the
 * value's JSON as an attachment, which the server's decoder takes without scanning; small values stay
 * one inline frame. Counted in bytes, not seconds.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FrameDecoder } from "../../../src/runtime/protocol.js";
import { RawJson } from "../../../src/runtime/raw-json.js";
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
