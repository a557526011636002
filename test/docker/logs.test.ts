import { describe, expect, it } from "vitest";
import { LogDemuxer, LogTail } from "../../src/docker/logs.js";

/** One frame of the engine's multiplexed stream: stream type, three zero bytes, big-endian length. */
function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe("container output", () => {
  it("LogDemuxer: frames split anywhere come out whole, on their stream", () => {
    const got: string[] = [];
    const d = new LogDemuxer((stream, text) => got.push(`${stream}:${text}`));
    const bytes = Buffer.concat([frame(1, "out line\n"), frame(2, "err line\n")]);
    for (let i = 0; i < bytes.length; i += 3) d.push(bytes.subarray(i, i + 3));
    expect(got).toEqual(["stdout:out line\n", "stderr:err line\n"]);
  });

  it("LogTail: keeps the last lines, and only the end of a line that never ends (a progress bar)", () => {
    const tail = new LogTail(2);
    tail.push("one\ntwo\nthree\n");
    expect(tail.lines()).toEqual(["two", "three"]);
    for (let i = 0; i < 300; i++) tail.push(`\r${String(i).padStart(1000, "#")}`);
    const last = tail.lines().at(-1) ?? "";
    expect(last.length).toBeLessThanOrEqual(65536);
    expect(last.endsWith("#299")).toBe(true);
    tail.push(" done\n");
    expect(tail.lines().at(-1)?.endsWith("#299 done")).toBe(true);
  });
});
