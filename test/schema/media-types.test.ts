/**
 * One table of media types for both halves: a file output written by the runtime comes back to
 * `kiln predict` under its own extension, and input files get the names Cog (Python's mimetypes) gives.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OutputWriter } from "../../src/prediction/outputs.js";
import { encodeOutputFiles, resolveFileInputs, DEFAULT_FILE_LIMITS } from "../../src/runtime/files.js";
import { decodeDataUri, extensionFor, mediaTypeOf, toDataUri } from "../../src/schema/media-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-media-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the media-type table", () => {
  it.each([
    ["image/jpeg", ".jpg"],
    ["image/tiff", ".tiff"],
    ["audio/x-wav", ".wav"],
    ["audio/flac", ".flac"],
    ["image/bmp", ".bmp"],
    ["text/plain; charset=utf-8", ".txt"],
    ["application/octet-stream", ".bin"],
  ])("%s -> %s (as Python's mimetypes.guess_extension)", (type, ext) => {
    expect(extensionFor(type)).toBe(ext);
  });

  it("unknown types have no extension; unknown extensions are octet-stream and keep their name", () => {
    expect(extensionFor("application/x-unknown")).toBeUndefined();
    expect(mediaTypeOf("weights.npy")).toBe("application/octet-stream");
    const uri = toDataUri(Buffer.from("x"), "/tmp/out/weights.npy");
    expect(uri.startsWith("data:application/octet-stream;name=weights.npy;base64,")).toBe(true);
    expect(decodeDataUri(uri)).toMatchObject({ name: "weights.npy", bytes: Buffer.from("x") });
  });
});

describe("file outputs keep their extension from the runtime to kiln predict", () => {
  it.each(["song.flac", "scan.bmp", "page.tif", "array.npy", "photo.jpeg"])("%s", async (name) => {
    const produced = join(dir, name);
    await writeFile(produced, "bytes");
    const uri = (await encodeOutputFiles({ $file: produced }, {})) as string;
    const outDir = join(dir, "out");
    const stdout = new PassThrough();
    const writer = new OutputWriter(
      { stdout, note: () => undefined },
      { cwd: outDir, json: false, outputSchema: { type: "string", format: "uri" } },
    );
    await writer.finish({ status: "succeeded", output: uri });
    const expected = {
      "song.flac": "output.flac",
      "scan.bmp": "output.bmp",
      "page.tif": "output.tiff",
      "array.npy": "output.npy",
      "photo.jpeg": "output.jpg",
    }[name];
    expect((await readdir(outDir)).map((f) => basename(f))).toEqual([expected]);
  });
});

describe("file inputs are named as Cog names them", () => {
  it("a data: URI of image/jpeg becomes input.jpg; a named octet-stream keeps its extension", async () => {
    const input = {
      photo: `data:image/jpeg;base64,${Buffer.from("jpg").toString("base64")}`,
      array: toDataUri(Buffer.from("npy"), "a.npy"),
    };
    const resolved = await resolveFileInputs(
      input,
      ["photo", "array"],
      dir,
      DEFAULT_FILE_LIMITS,
      new AbortController().signal,
    );
    expect(basename(resolved["photo"] as string)).toBe("input.jpg");
    expect(basename(resolved["array"] as string)).toBe("input.npy");
  });
});
