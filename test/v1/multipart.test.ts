/**
 * The streaming multipart reader behind POST /v1/files (issue 15): the same parts whatever the chunking
 * (boundaries split at every offset), a file part kept as the request's pieces with its checksum, and
 * clear 400/413/415 answers for bad uploads.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readMultipart } from "../../src/runtime/v1/multipart.js";

/** A form as undici's FormData serializes it (what the replicate client sends). */
async function formBytes(form: FormData): Promise<{ type: string; bytes: Buffer }> {
  const res = new Response(form);
  return { type: res.headers.get("content-type")!, bytes: Buffer.from(await res.arrayBuffer()) };
}

function requestOf(type: string, pieces: Buffer[]): IncomingMessage {
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return Object.assign(Readable.from(pieces), {
    headers: { "content-type": type, "content-length": String(length) },
  }) as unknown as IncomingMessage;
}

function split(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  return out;
}

async function status(promise: Promise<unknown>): Promise<{ status: number; detail: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { status: number; body: { detail: string } };
    return { status: e.status, detail: e.body.detail };
  }
  throw new Error("accepted");
}

describe("multipart uploads, streamed", () => {
  it("a 3 MB file and text fields: the same parts at every read size, the file checksummed as it came", async () => {
    const file = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < file.length; i++) file[i] = (i * 7919) % 251;
    const form = new FormData();
    form.set("content", new Blob([file], { type: "image/png" }), "pic.png");
    form.set("metadata", JSON.stringify({ a: 1 }));
    form.set("filename", "renamed.png");
    const { type, bytes } = await formBytes(form);
    for (const size of [4096, 65_536, 65_537, bytes.length]) {
      const upload = await readMultipart(requestOf(type, split(bytes, size)), 10 * 1024 * 1024);
      const content = upload.files.get("content")!;
      expect(content.filename).toBe("pic.png");
      expect(content.type).toBe("image/png");
      expect(content.size).toBe(file.length);
      expect(Buffer.concat(content.parts).equals(file)).toBe(true);
      expect(content.sha256).toBe(createHash("sha256").update(file).digest("hex"));
      // Kept as the pieces they arrived in, not joined into one buffer.
      if (size < file.length) expect(content.parts.length).toBeGreaterThan(file.length / size - 2);
      expect(upload.fields.get("metadata")).toBe('{"a":1}');
      expect(upload.fields.get("filename")).toBe("renamed.png");
    }
  });

  it("boundaries and headers split at every offset", async () => {
    const form = new FormData();
    form.set("content", new Blob(["--not a boundary\r\n--"]), "x.txt");
    form.set("note", "é中\r\n");
    const { type, bytes } = await formBytes(form);
    for (let size = 1; size <= 24; size++) {
      const upload = await readMultipart(requestOf(type, split(bytes, size)), 1024);
      expect(Buffer.concat(upload.files.get("content")!.parts).toString()).toBe("--not a boundary\r\n--");
      expect(upload.fields.get("note")).toBe("é中\r\n");
    }
  });

  it("a body cut before its closing boundary, a part without a name or with endless headers is a 400", async () => {
    const type = "multipart/form-data; boundary=XyZ";
    const cut = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="content"; filename="a"\r\n\r\nabc',
    );
    expect(await status(readMultipart(requestOf(type, [cut]), 1024))).toEqual({
      status: 400,
      detail: "malformed multipart body: it ends before the closing boundary",
    });
    const nameless = Buffer.from("--XyZ\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XyZ--\r\n");
    expect((await status(readMultipart(requestOf(type, [nameless]), 1024))).detail).toBe(
      "malformed multipart body: a part without a name",
    );
    const endless = Buffer.from(`--XyZ\r\nX-Pad: ${"p".repeat(20_000)}`);
    expect((await status(readMultipart(requestOf(type, [endless]), 100_000))).detail).toBe(
      "malformed multipart body: part headers too long",
    );
  });

  it("over the limit is a 413, another content type a 415", async () => {
    const form = new FormData();
    form.set("content", new Blob([Buffer.alloc(5000)]), "a.bin");
    const { type, bytes } = await formBytes(form);
    const big = requestOf(type, split(bytes, 1000));
    delete (big.headers as Record<string, string>)["content-length"];
    expect((await status(readMultipart(big, 4096))).status).toBe(413);
    expect((await status(readMultipart(requestOf("application/json", [bytes]), 1e6))).status).toBe(415);
  });
});
