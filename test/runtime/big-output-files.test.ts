/**
 * Big outputs kept as the worker's bytes (RawJson) and file references (issue 15): a big string passes
 * without being searched; a big object is searched for `"$file"` (a few MB at a time) and encoded only
 * when it names one.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeOutputFiles } from "../../src/runtime/files.js";
import { RawJson } from "../../src/runtime/raw-json.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-big-out-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `value` as RawJson in 64 KiB pieces, as a pipe would deliver it. */
function raw(value: unknown): RawJson {
  const bytes = Buffer.from(JSON.stringify(value));
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65_536) parts.push(bytes.subarray(i, i + 65_536));
  return new RawJson(parts, bytes.length);
}

describe("big outputs and file references", () => {
  it("a big string, even one that spells a file reference, is passed on as the same bytes", async () => {
    const text = raw(`${"t".repeat(10 * 1024 * 1024)}{"$file": "/etc/passwd"}`);
    expect(await encodeOutputFiles(text, {})).toBe(text);
  });

  it("a big object naming a file (past several search slices) gets the file encoded", async () => {
    const path = join(dir, "out.txt");
    await writeFile(path, "hello");
    const value = { text: "u".repeat(9 * 1024 * 1024), file: { $file: path } };
    const out = (await encodeOutputFiles(raw(value), {})) as { text: string; file: string };
    expect(out.text.length).toBe(9 * 1024 * 1024);
    expect(out.file).toBe(`data:text/plain;base64,${Buffer.from("hello").toString("base64")}`);
  });

  it("a big object without one stays the worker's bytes", async () => {
    const value = raw({ items: Array.from({ length: 50_000 }, (_, i) => `item ${i} $file`) });
    expect(await encodeOutputFiles(value, {})).toBe(value);
  });
});
