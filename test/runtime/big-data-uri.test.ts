/**
 * Big data: URI inputs kept as request bytes are decoded into their file piece by piece (issue 15):
 * the same bytes whatever the request's chunking, named like Cog names them, with the byte limit and
 * the general path for forms that cannot be streamed.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_FILE_LIMITS, resolveFileInputs } from "../../src/runtime/files.js";
import { JsonStringBytes } from "../../src/runtime/raw-json.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-big-uri-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A JSON string literal for `text`, cut into pieces of the given sizes (as request reads would be). */
function kept(text: string, sizes: number[]): JsonStringBytes {
  const literal = Buffer.from(JSON.stringify(text));
  const parts: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < literal.length; k++) {
    const n = sizes[k % sizes.length]!;
    parts.push(literal.subarray(at, at + n));
    at += n;
  }
  return new JsonStringBytes(parts, literal.length, [...text].length, literal.includes(0x5c));
}

const file = Buffer.alloc(300_001);
for (let i = 0; i < file.length; i++) file[i] = (i * 31) % 256;

async function resolve(value: unknown, limits = DEFAULT_FILE_LIMITS): Promise<string> {
  const sub = await mkdtemp(join(dir, "p-"));
  const out = await resolveFileInputs({ image: value }, ["image"], sub, limits, new AbortController().signal);
  return out.image as string;
}

describe("big data URI inputs", () => {
  it("decode to the same bytes whatever the read boundaries, named input.<ext>", async () => {
    const uri = `data:image/png;base64,${file.toString("base64")}`;
    for (const sizes of [[65_536], [1, 2, 3, 5, 7, 11, 13], [4093, 4099], [uri.length + 2]]) {
      const path = await resolve(kept(uri, sizes));
      expect(basename(path)).toBe("input.png");
      expect((await readFile(path)).equals(file)).toBe(true);
    }
  });

  it("keep a filename parameter's extension", async () => {
    const uri = `data:application/octet-stream;filename=weights.safetensors;base64,${file.toString("base64")}`;
    expect(basename(await resolve(kept(uri, [70_000])))).toBe("input.safetensors");
  });

  it("over the download limit is refused while decoding", async () => {
    const uri = `data:image/png;base64,${file.toString("base64")}`;
    await expect(
      resolve(kept(uri, [65_536]), { ...DEFAULT_FILE_LIMITS, maxDownloadBytes: 100_000 }),
    ).rejects.toThrow(/input image: data URI exceeds the byte limit/);
  });

  it("escaped or percent-encoded ones take the general path and still arrive whole", async () => {
    const escaped = kept(`data:image/png;base64,${file.toString("base64")}`, [65_536]);
    // The same URI with every "/" escaped, as some JSON encoders write it.
    const literal = Buffer.from(JSON.stringify(escaped.text()).replace(/\//g, "\\/"));
    const slashEscaped = new JsonStringBytes([literal], literal.length, escaped.codePoints, true);
    expect((await readFile(await resolve(slashEscaped))).equals(file)).toBe(true);
    const text = "héllo, wörld ".repeat(8000);
    const percent = kept(`data:text/plain,${encodeURIComponent(text)}`, [65_536]);
    expect((await readFile(await resolve(percent))).toString()).toBe(text);
  });
});
