/** GET /playground, CORS and GET /v1/models on a real server (port 0), with a built page in a temp dir. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { corsPolicy } from "../../src/runtime/http/cors.js";
import { request, startFixture } from "../runtime/helpers.js";

let dir: string;
let server: RunningServer;
const TOKEN = "pg-test-token";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kiln-playground-page-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>kiln playground</title>");
  writeFileSync(join(dir, "app.js"), "console.log('app')".repeat(100));
  writeFileSync(join(dir, "app.css"), "body{}");
  server = await startFixture("echo", {
    playgroundDir: dir,
    hosted: { apiToken: TOKEN, model: "acme/echo" },
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /playground", () => {
  it("serves the page without a token, with a CSP that allows no third-party code", async () => {
    const r = await request(server.url, "/playground");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.text).toContain("kiln playground");
    const csp = r.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
  });

  it("serves the assets gzipped when asked, and answers 304 to a matching ETag", async () => {
    const res = await fetch(`${server.url}/playground/app.js`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const etag = res.headers.get("etag")!;
    expect(await res.text()).toContain("console.log");
    const again = await fetch(`${server.url}/playground/app.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    // fetch() would inflate by itself: read the raw bytes with node:http semantics via a HEAD-free GET.
    const { request: raw } = await import("node:http");
    const gz = await new Promise<Buffer>((resolve, reject) => {
      raw(`${server.url}/playground/app.js`, { headers: { "accept-encoding": "gzip" } }, (r) => {
        expect(r.headers["content-encoding"]).toBe("gzip");
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve(Buffer.concat(chunks)));
      })
        .on("error", reject)
        .end();
    });
    expect(gunzipSync(gz).toString()).toContain("console.log('app')");
  });

  it("serves only its own files", async () => {
    expect((await request(server.url, "/playground/secret.txt")).status).toBe(404);
    expect((await request(server.url, "/playground/..%2Fpackage.json")).status).toBe(404);
  });

  it("says how to build the page when it is missing", async () => {
    const other = await startFixture("echo", { playgroundDir: join(dir, "nope") });
    try {
      const r = await request(other.url, "/playground");
      expect(r.status).toBe(503);
      expect(r.body.error).toMatch(/npm run build/);
    } finally {
      await other.close();
    }
  });
});

describe("GET /v1/models", () => {
  it("lists the served model with its latest version and schema (token required)", async () => {
    expect((await request(server.url, "/v1/models")).status).toBe(401);
    const r = await request(server.url, "/v1/models", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.body.results).toHaveLength(1);
    expect(r.body.results[0]).toMatchObject({ owner: "acme", name: "echo" });
    expect(r.body.results[0].latest_version.id).toBe(server.hosted.version);
    expect(r.body.results[0].latest_version.openapi_schema.components.schemas.Input).toBeDefined();
  });
});

describe("CORS", () => {
  it("lets a page from another loopback port call /v1 (preflight, then the request)", async () => {
    const origin = "http://127.0.0.1:46999";
    const pre = await fetch(`${server.url}/v1/predictions`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    const r = await request(server.url, "/v1/models", {
      headers: { origin, authorization: `Bearer ${TOKEN}` },
    });
    expect(r.headers.get("access-control-allow-origin")).toBe(origin);
    expect(r.headers.get("access-control-expose-headers")).toContain("location");
  });

  it("gives other origins nothing, so browsers keep them out", async () => {
    const origin = "https://evil.example";
    const pre = await fetch(`${server.url}/v1/predictions`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    // Not a preflight answer: the router's own (the token guard first, as for any unknown request).
    expect(pre.status).toBe(401);
  });

  it("policy: loopback always, listed origins and * by KILN_CORS_ORIGINS", () => {
    const none = corsPolicy(undefined);
    expect(none.allows("http://localhost:3000")).toBe(true);
    expect(none.allows("http://[::1]:8080")).toBe(true);
    expect(none.allows("http://127.0.0.1.evil.example")).toBe(false);
    expect(none.allows("http://10.0.0.5:5000")).toBe(false);
    const listed = corsPolicy("http://10.0.0.5:5000/, https://lab.example");
    expect(listed.allows("http://10.0.0.5:5000")).toBe(true);
    expect(listed.allows("https://LAB.example")).toBe(true);
    expect(listed.allows("https://other.example")).toBe(false);
    expect(corsPolicy("*").allows("https://any.example")).toBe(true);
  });
});
