/**
 * Defect 9: /v1/files refuses bad input with 400 before storing anything (deep metadata, malformed
 * Host), and any stored name downloads (RFC 6266 / RFC 5987 Content-Disposition).
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { contentDisposition } from "../../src/runtime/v1/files-routes.js";
import { request, startFixture } from "../runtime/helpers.js";

function upload(base: string, name: string, metadata?: string): Promise<Response> {
  const form = new FormData();
  form.set("content", new Blob(["hello"], { type: "text/plain" }), name);
  if (metadata !== undefined) form.set("metadata", metadata);
  return fetch(`${base}/v1/files`, { method: "POST", body: form });
}

describe("/v1/files with hostile input", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("noop");
  });
  afterAll(() => server.close());
  const count = async (): Promise<number> => (await request(server.url, "/v1/files")).body.results.length;

  it("metadata nested 100,000 deep is a 400 and nothing is stored; listing keeps working", async () => {
    const before = await count();
    const nested = (n: number): string => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
    const res = await upload(server.url, "x.txt", nested(100_000));
    expect(res.status).toBe(400);
    const deep = await upload(server.url, "x.txt", nested(10_000)); // under the size cap, too deep
    expect(deep.status).toBe(400);
    expect(await deep.text()).toMatch(/nested deeper/);
    const huge = await upload(server.url, "x.txt", JSON.stringify({ pad: "m".repeat(100_000) }));
    expect(huge.status).toBe(400);
    const list = await request(server.url, "/v1/files");
    expect(list.status).toBe(200);
    expect(list.body.results.length).toBe(before);
  });

  it("a name like `résumé ✓.txt` uploads and downloads with an RFC 5987 filename*", async () => {
    const res = await upload(server.url, "résumé ✓.txt", JSON.stringify({ k: "v" }));
    expect(res.status).toBe(201);
    const file = (await res.json()) as { name: string; urls: { download: string } };
    expect(file.name).toBe("résumé ✓.txt");
    const dl = await fetch(file.urls.download);
    expect(dl.status).toBe(200);
    expect(await dl.text()).toBe("hello");
    const cd = dl.headers.get("content-disposition")!;
    expect(cd).toBe(`attachment; filename="r_sum_ _.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt`);
    const star = /filename\*=UTF-8''(.*)$/.exec(cd)![1]!;
    expect(decodeURIComponent(star)).toBe("résumé ✓.txt");
  });

  it("escapes quotes, backslashes and control characters in the fallback name", () => {
    expect(contentDisposition('a"b\\c\r\n.txt')).toBe(
      `attachment; filename="a_b_c__.txt"; filename*=UTF-8''a%22b%5Cc%0D%0A.txt`,
    );
  });

  it("a malformed Host header on an upload is a 400 and stores nothing", async () => {
    const before = await count();
    const boundary = "XbOuNdArY";
    const body =
      `--${boundary}\r\ncontent-disposition: form-data; name="content"; filename="h.txt"\r\n` +
      `content-type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/v1/files",
          headers: {
            host: "bad host:99999",
            "content-type": `multipart/form-data; boundary=${boundary}`,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(400);
    expect(await count()).toBe(before);
  });
});
