import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { createLogger } from "../../src/runtime/logger.js";
import { eventually, parseSse, request, startFixture, startReceiver } from "./helpers.js";

// A private temp dir for this file (forked test process), so "no temp files left" is exact.
const TMP = mkdtempSync(join(tmpdir(), "kiln-files-test-"));
const ORIGINAL_TMPDIR = process.env.TMPDIR;
process.env.TMPDIR = TMP;
const kilnTemps = () => readdirSync(TMP).filter((n) => n.startsWith("kiln-pred-"));

let files: Server;
let filesUrl: string;
beforeAll(async () => {
  files = createServer((req, res) => {
    if (req.url === "/hello.txt") res.writeHead(200, { "content-type": "text/plain" }).end("hello file");
    else if (req.url === "/big.bin")
      res.writeHead(200, { "content-length": String(10_000) }).end(Buffer.alloc(10_000));
    else if (req.url === "/slow") setTimeout(() => res.end("late"), 5_000);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  files.closeAllConnections();
  await new Promise((r) => files.close(r));
  // Test processes may be reused for other files: put TMPDIR back.
  if (ORIGINAL_TMPDIR === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = ORIGINAL_TMPDIR;
  rmSync(TMP, { recursive: true, force: true });
});

describe("file inputs and outputs", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startFixture("files", { fileLimits: { maxDownloadBytes: 5_000, downloadTimeoutMs: 500 } });
  });
  afterAll(() => s.close());

  it("downloads URL and data-URI inputs to local paths; outputs come back as data URIs", async () => {
    const dataUri = `data:text/plain;base64,${Buffer.from("from data").toString("base64")}`;
    const r = await request(s.url, "/predictions", {
      body: { input: { image: `${filesUrl}/hello.txt`, extras: [dataUri, `${filesUrl}/hello.txt`] } },
    });
    expect(r.body.status).toBe("succeeded");
    const [a, b, c] = r.body.output as string[];
    expect(a).toBe(`data:text/plain;base64,${Buffer.from("HELLO FILE").toString("base64")}`);
    expect(Buffer.from(b!.split(",")[1]!, "base64").toString()).toBe("tmp:from data");
    expect(Buffer.from(c!.split(",")[1]!, "base64").toString()).toBe("tmp:hello file");
    expect(r.body.logs).toMatch(/input path \/.*hello\.txt/);
    expect(JSON.stringify(r.body.output)).not.toContain("/tmp");
    await eventually(() => expect(kilnTemps()).toEqual([]));
  });

  it("a failed, too large or too slow download fails the prediction with a clear error", async () => {
    const missing = await request(s.url, "/predictions", {
      body: { input: { image: `${filesUrl}/missing` } },
    });
    expect(missing.body).toMatchObject({ status: "failed" });
    expect(missing.body.error).toMatch(/input image: download of .*\/missing answered HTTP 404/);
    const big = await request(s.url, "/predictions", { body: { input: { image: `${filesUrl}/big.bin` } } });
    expect(big.body.error).toMatch(/10000 bytes, more than the 5000 limit/);
    const slow = await request(s.url, "/predictions", { body: { input: { image: `${filesUrl}/slow` } } });
    expect(slow.body.error).toMatch(/timed out/);
    // A local path is refused by validation before anything runs.
    const local = await request(s.url, "/predictions", { body: { input: { image: "/etc/passwd" } } });
    expect(local.status).toBe(422);
    expect(local.body.detail[0].loc).toEqual(["body", "input", "image"]);
    await eventually(() => expect(kilnTemps()).toEqual([]));
  });

  it("--upload-url PUTs each file output and returns the Location without its query", async () => {
    const up = await startReceiver((r) => ({
      status: 201,
      headers: { location: `https://cdn.example/${r.path.split("/").pop()}?sig=1` },
    }));
    const s2 = await startFixture("files", { uploadUrl: `${up.url}/uploads/` });
    try {
      const r = await request(s2.url, "/predictions", {
        body: { input: { image: `${filesUrl}/hello.txt` } },
      });
      expect(r.body.output).toEqual(["https://cdn.example/upper.txt"]);
      expect(up.received[0]).toMatchObject({ path: "/uploads/upper.txt", body: "HELLO FILE" });
      expect(up.received[0]!.headers["content-type"]).toBe("text/plain");
      const failing = await startReceiver(() => ({ status: 500 }));
      const s3 = await startFixture("files", { uploadUrl: failing.url });
      const f = await request(s3.url, "/predictions", {
        body: { input: { image: `${filesUrl}/hello.txt` } },
      });
      expect(f.body.status).toBe("failed");
      expect(f.body.error).toMatch(/upload of upper.txt .* HTTP 500/);
      await s3.close();
      await failing.close();
    } finally {
      await s2.close();
      await up.close();
    }
  });
});

describe("secrets", () => {
  it("are redacted in responses, logs, errors, webhooks, SSE and server logs", async () => {
    const lines: string[] = [];
    const hook = await startReceiver();
    const s = await startFixture("secretive", {
      logger: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    });
    try {
      const token = "sk-very-secret-123";
      const r = await request(s.url, "/predictions", { body: { input: { token }, webhook: hook.url } });
      expect(r.body.status).toBe("failed");
      expect(r.body.input.token).toBe("**********");
      expect(r.body.logs).toContain("the token is **********");
      expect(r.body.error).toBe("refusing token **********");
      const sse = await request(s.url, "/predictions", {
        body: { input: { token } },
        headers: { accept: "text/event-stream" },
      });
      expect(parseSse(sse.text).length).toBeGreaterThan(1);
      await eventually(() =>
        expect(hook.received.some((x) => JSON.parse(x.body).status === "failed")).toBe(true),
      );
      for (const text of [r.text, sse.text, ...hook.received.map((x) => x.body), ...lines])
        expect(text).not.toContain(token);
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      await s.close();
      await hook.close();
    }
  });
});
