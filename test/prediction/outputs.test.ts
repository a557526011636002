import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OutputWriter, type OutputOptions } from "../../src/prediction/outputs.js";
import { decodeDataUri } from "../../src/schema/media-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-outputs-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255]);
const pngUri = `data:image/png;base64,${png.toString("base64")}`;
const wavUri = `data:audio/wav;base64,${Buffer.from("RIFF").toString("base64")}`;

function writer(opts: Partial<OutputOptions> = {}) {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (d: Buffer) => (text += d.toString()));
  const notes: string[] = [];
  const w = new OutputWriter(
    { stdout, note: (l) => notes.push(l) },
    { cwd: dir, json: false, outputSchema: {}, ...opts },
  );
  return { w, out: () => text, notes };
}

describe("final outputs", () => {
  it("writes a single file output to output.<ext>, byte-identical", async () => {
    const { w, out, notes } = writer({ outputSchema: { type: "string", format: "uri" } });
    expect(await w.finish({ status: "succeeded", output: pngUri })).toBe(0);
    expect(await readFile(join(dir, "output.png"))).toEqual(png);
    expect(out()).toBe("");
    expect(notes).toEqual(["Written output to output.png"]);
  });

  it("writes to -o PATH, creating its directory", async () => {
    const { w } = writer({ outputPath: "out/cat.png" });
    await w.finish({ status: "succeeded", output: pngUri });
    expect(await readFile(join(dir, "out", "cat.png"))).toEqual(png);
  });

  it("writes lists of files to output.0.<ext>, output.1.<ext>, and -o stems", async () => {
    const { w } = writer();
    await w.finish({ status: "succeeded", output: [pngUri, wavUri] });
    expect((await readdir(dir)).sort()).toEqual(["output.0.png", "output.1.wav"]);
    const second = writer({ outputPath: "res.png" });
    await second.w.finish({ status: "succeeded", output: [pngUri, pngUri] });
    expect((await readdir(dir)).filter((f) => f.startsWith("res")).sort()).toEqual([
      "res.0.png",
      "res.1.png",
    ]);
  });

  it("prints strings raw and other values as JSON", async () => {
    const s = writer();
    await s.w.finish({ status: "succeeded", output: "hello\nworld" });
    expect(s.out()).toBe("hello\nworld\n");
    const n = writer();
    await n.w.finish({ status: "succeeded", output: 42 });
    expect(n.out()).toBe("42\n");
    const o = writer();
    await o.w.finish({ status: "succeeded", output: { caption: "cat", mask: pngUri } });
    expect(JSON.parse(o.out())).toEqual({ caption: "cat", mask: "output.mask.png" });
    expect(await readFile(join(dir, "output.mask.png"))).toEqual(png);
  });

  it("returns 1 for failed and canceled predictions and prints no output", async () => {
    const f = writer();
    expect(await f.w.finish({ status: "failed", output: null, error: "boom" })).toBe(1);
    expect(await writer().w.finish({ status: "canceled", output: null })).toBe(1);
    expect(f.out()).toBe("");
  });

  it("--json prints the whole prediction with files replaced by their paths", async () => {
    const { w, out } = writer({ json: true });
    await w.finish({ id: "p1", status: "succeeded", output: pngUri, logs: "hi\n" });
    expect(JSON.parse(out())).toEqual({ id: "p1", status: "succeeded", output: "output.png", logs: "hi\n" });
    expect(await readFile(join(dir, "output.png"))).toEqual(png);
  });
});

describe("streamed outputs", () => {
  it("prints iterator items as they arrive, one per line", async () => {
    const { w, out } = writer({
      outputSchema: { type: "array", items: { type: "string" }, "x-cog-array-type": "iterator" },
    });
    await w.chunk("a", 0);
    expect(out()).toBe("a\n");
    await w.chunk("b", 1);
    await w.chunk("b", 1); // a duplicate after re-attach is ignored
    await w.finish({ status: "succeeded", output: ["a", "b", "c"] });
    expect(out()).toBe("a\nb\nc\n");
  });

  it("concatenates ConcatenateIterator tokens and ends with a newline", async () => {
    const { w, out } = writer({
      outputSchema: {
        type: "array",
        items: { type: "string" },
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
      },
    });
    await w.chunk("Hel", 0);
    await w.chunk("lo", 1);
    expect(out()).toBe("Hello");
    await w.finish({ status: "succeeded", output: ["Hel", "lo"] });
    expect(out()).toBe("Hello\n");
  });

  it("writes streamed files as output.<index>.<ext>", async () => {
    const { w } = writer({
      outputSchema: {
        type: "array",
        items: { type: "string", format: "uri" },
        "x-cog-array-type": "iterator",
      },
    });
    await w.chunk(pngUri, 0);
    expect(await readFile(join(dir, "output.0.png"))).toEqual(png);
    await w.finish({ status: "succeeded", output: [pngUri, pngUri] });
    expect((await readdir(dir)).sort()).toEqual(["output.0.png", "output.1.png"]);
  });
});

describe("data URIs", () => {
  it("decodes base64 and percent-encoded forms", () => {
    expect(decodeDataUri(pngUri)).toEqual({ mimeType: "image/png", bytes: png });
    expect(decodeDataUri("data:,a%20b")).toEqual({ mimeType: "text/plain", bytes: Buffer.from("a b") });
    expect(decodeDataUri("hello")).toBeUndefined();
    expect(decodeDataUri("data:application/octet-stream;name=blur-1.ppm;base64,AA==")).toMatchObject({
      name: "blur-1.ppm",
    });
  });

  it("takes the extension from a name= parameter when the server sends one", async () => {
    const { w } = writer();
    await w.finish({
      status: "succeeded",
      output: "data:application/octet-stream;name=blur-1.ppm;base64,AAE=",
    });
    expect(await readFile(join(dir, "output.ppm"))).toEqual(Buffer.from([0, 1]));
  });
});
