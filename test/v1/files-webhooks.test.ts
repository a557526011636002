// /v1/files (upload, get, list, download, delete, limits), Buffers as file inputs through the replicate
// client, file outputs as FileOutput with the exact bytes, and Standard Webhooks signatures.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Replicate, { validateWebhook, type FileOutput } from "replicate";
import { request, startReceiver } from "../runtime/helpers.js";
import { startV1, type V1Server } from "./helpers.js";

describe("/v1 files and file inputs/outputs", () => {
  let s: V1Server;
  beforeAll(async () => {
    s = await startV1("bytes", { hosted: { fileLimits: { maxFileBytes: 256 * 1024 } } });
  });
  afterAll(() => s.close());

  it("a Buffer input is uploaded through /v1/files and the FileOutput has the exact bytes", async () => {
    const input = randomBytes(100_000);
    const out = (await s.replicate.run("acme/bytes", { input: { file: input } })) as FileOutput;
    expect(String(out)).toMatch(/^data:application\/octet-stream;base64,/);
    const blob = await out.blob();
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(input).reverse())).toBe(true);
    // The client went through /v1/files: the upload is listed with the right size and checksum.
    const files = await s.replicate.files.list();
    const uploaded = (files as unknown as { results: { size: number }[] }).results.find(
      (f) => f.size === input.length,
    );
    expect(uploaded).toBeDefined();
  });

  it("with useFileOutput off, the output is a data URI decoding to the exact bytes", async () => {
    const plain = new Replicate({ auth: "x", baseUrl: `${s.base}/v1`, useFileOutput: false });
    const input = randomBytes(4096);
    const uri = String(await plain.run("acme/bytes", { input: { file: input } }));
    expect(Buffer.from(uri.split(",")[1]!, "base64").equals(Buffer.from(input).reverse())).toBe(true);
  });

  it("files.create / get / list / delete round trip, and the file URL is a valid input", async () => {
    const bytes = Buffer.from("kiln file store\n");
    const f = await s.replicate.files.create(bytes, { purpose: "test" });
    expect(f).toMatchObject({
      size: bytes.length,
      content_type: "application/octet-stream",
      metadata: { purpose: "test" },
    });
    expect(f.checksums.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(f.urls.get).toBe(`${s.base}/v1/files/${f.id}`);
    expect((await s.replicate.files.get(f.id)).id).toBe(f.id);
    const download = await fetch(`${f.urls.get}/download`);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    // The file URL works as an input (resolved from disk, not over HTTP).
    const out = await s.replicate.run("acme/bytes", {
      input: { file: f.urls.get },
      useFileOutput: false,
    } as never);
    expect(Buffer.from(String(out).split(",")[1]!, "base64").toString()).toBe(
      Buffer.from(bytes).reverse().toString(),
    );
    expect(await s.replicate.files.delete(f.id)).toBe(true);
    await expect(s.replicate.files.get(f.id)).rejects.toThrow(/status 404/);
    const gone = await request(s.base, `/v1/files/${f.id}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
  });

  it("a hand-written multipart body keeps its part's filename and content type", async () => {
    const boundary = "kiln-test-boundary";
    const raw = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="content"; filename="hello.txt"',
      "Content-Type: text/plain",
      "",
      "hello",
      `--${boundary}--`,
      "",
    ].join("\r\n");
    const res = await fetch(`${s.base}/v1/files`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; charset=utf-8; boundary=${boundary}` },
      body: raw,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      name: "hello.txt",
      content_type: "text/plain",
      size: 5,
      metadata: {},
    });
  });

  it("uploads over the size limit get 413; a non-multipart upload 415", async () => {
    await expect(s.replicate.files.create(Buffer.alloc(300 * 1024))).rejects.toThrow(/status 413/);
    const form = new FormData();
    form.append("content", new Blob([Buffer.alloc(257 * 1024)]), "big.bin");
    const res = await fetch(`${s.base}/v1/files`, { method: "POST", body: form });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/262144 byte limit/);
    const json = await request(s.base, "/v1/files", { body: { content: "x" } });
    expect(json.status).toBe(415);
  });
});

/** What a webhook receiver built on fetch's Request would hand to validateWebhook. */
function asRequest(headers: IncomingHttpHeaders, body: string): Request {
  return new Request("http://127.0.0.1/hook", {
    method: "POST",
    headers: headers as Record<string, string>,
    body,
  });
}

describe("/v1 signed webhooks", () => {
  it("validateWebhook accepts kiln's signed webhooks and rejects a tampered body", async () => {
    const s = await startV1("echo", {
      hosted: { webhookSecret: "whsec_" + randomBytes(24).toString("base64") },
    });
    const receiver = await startReceiver();
    try {
      const { key } = await s.replicate.webhooks.default.secret.get();
      expect(key).toBe(s.server.hosted.webhookSecret);
      const p = await s.replicate.predictions.create({
        version: s.version,
        input: { text: "signed" },
        webhook: `${receiver.url}/hook`,
        webhook_events_filter: ["start", "completed"],
      });
      await receiver.waitFor(2);
      const last = receiver.received[receiver.received.length - 1]!;
      const body = JSON.parse(last.body) as {
        id: string;
        status: string;
        output: string;
        urls: { get: string };
      };
      expect(body).toMatchObject({ id: p.id, status: "succeeded", output: "signed" });
      expect(body.urls.get).toBe(p.urls.get);
      expect(last.body).toBe(JSON.stringify(body)); // compact JSON
      for (const r of receiver.received) {
        expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
        expect(await validateWebhook(asRequest(r.headers, r.body), key)).toBe(true);
      }
      const tampered = last.body.replace('"signed"', '"forged"');
      expect(await validateWebhook(asRequest(last.headers, tampered), key)).toBe(false);
      const h = last.headers as Record<string, string>;
      const fields = {
        id: h["webhook-id"]!,
        timestamp: h["webhook-timestamp"]!,
        signature: h["webhook-signature"]!,
        body: last.body,
      };
      expect(await validateWebhook({ ...fields, secret: key })).toBe(true);
      const otherKey = "whsec_" + randomBytes(24).toString("base64");
      expect(await validateWebhook({ ...fields, secret: otherKey })).toBe(false);
    } finally {
      await receiver.close();
      await s.close();
    }
  });

  it("the secret persists for the server's life; an invalid configured secret is refused at start", async () => {
    const s = await startV1("noop");
    try {
      const a = await s.replicate.webhooks.default.secret.get();
      const b = await s.replicate.webhooks.default.secret.get();
      expect(a.key).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
      expect(b.key).toBe(a.key);
    } finally {
      await s.close();
    }
    await expect(startV1("noop", { hosted: { webhookSecret: "not-a-secret" } })).rejects.toThrow(/whsec_/);
  });
});
