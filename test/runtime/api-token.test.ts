/**
 * Defect 3: with --api-token every route needs the token except the documented public ones (health,
 * /v1 stream URLs); webhooks that point at the server itself are refused; the token never reaches the
 * model's environment.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { request, startFixture } from "./helpers.js";

const TOKEN = "t0ken-for-tests";
const auth = { authorization: `Bearer ${TOKEN}` };

describe("--api-token guards every route but health and stream URLs", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("envProbe", {
      hosted: { apiToken: TOKEN, webhookSecret: "whsec_dGVzdHRlc3R0ZXN0dGVzdA==" },
      env: { KILN_WEBHOOK_SECRET: "whsec_x", WEBHOOK_AUTH_TOKEN: "hook-token" },
    });
  });
  afterAll(() => server.close());

  it("refuses POST /predictions, PUT, cancel, /shutdown, openapi, discovery and unknown routes without it", async () => {
    const probes: [string, string, unknown][] = [
      ["POST", "/predictions", { input: { name: "HOME" } }],
      ["PUT", "/predictions/abc", { input: { name: "HOME" } }],
      ["POST", "/predictions/abc/cancel", undefined],
      ["POST", "/shutdown", undefined],
      ["GET", "/openapi.json", undefined],
      ["GET", "/", undefined],
      ["GET", "/v1/predictions", undefined],
      ["GET", "/no-such-route", undefined],
    ];
    for (const [method, path, body] of probes) {
      const res = await request(server.url, path, {
        method,
        body,
        headers: { authorization: "Bearer nope" },
      });
      expect([method, path, res.status]).toEqual([method, path, 401]);
      const bare = await request(server.url, path, { method, body });
      expect([method, path, bare.status]).toEqual([method, path, 401]);
    }
    expect(server.runner.inFlight).toBe(0);
    // The server is still up: /shutdown without the token did nothing.
    expect((await request(server.url, "/health-check")).body.status).toBe("READY");
  });

  it("answers /health-check and /v1 stream URLs without it, and everything with it", async () => {
    expect(server.router.publicRoutes().sort()).toEqual([
      "GET /health-check",
      "GET /playground",
      "GET /playground/:file",
      "GET /v1/predictions/:id/stream",
    ]);
    const sync = await request(server.url, "/predictions", {
      body: { input: { name: "HOME" } },
      headers: auth,
    });
    expect(sync.status).toBe(200);
    const v1 = await request(server.url, "/v1/predictions", {
      body: { version: "x", input: { name: "HOME" } },
      headers: { ...auth, prefer: "wait" },
    });
    expect(v1.status).toBe(201);
    const stream = await fetch(v1.body.urls.stream);
    expect(stream.status).toBe(200);
    expect(await stream.text()).toContain("event: done");
  });

  it("keeps the token and webhook secrets out of the model's environment", async () => {
    for (const name of ["KILN_API_TOKEN", "KILN_WEBHOOK_SECRET", "WEBHOOK_AUTH_TOKEN"]) {
      const res = await request(server.url, "/predictions", { body: { input: { name } }, headers: auth });
      expect([name, res.body.output]).toEqual([name, "<unset>"]);
    }
  });
});

describe("webhooks that point at the server itself", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixture("envProbe", { env: { KILN_API_TOKEN: TOKEN } });
  });
  afterAll(() => server.close());

  it("are refused with 422 before anything runs, and the server keeps running", async () => {
    const port = server.port;
    const targets = [
      `http://127.0.0.1:${port}/shutdown`,
      `http://localhost:${port}/shutdown`,
      `http://[::1]:${port}/shutdown`,
      `http://0.0.0.0:${port}/predictions`,
      `http://127.0.0.2:${port}/shutdown`,
    ];
    for (const webhook of targets) {
      const c = await request(server.url, "/predictions", {
        body: { input: { name: "HOME" }, webhook },
        headers: { ...auth, prefer: "respond-async" },
      });
      expect([webhook, c.status]).toEqual([webhook, 422]);
      expect(c.body.detail[0].loc).toEqual(["body", "webhook"]);
      const v = await request(server.url, "/v1/predictions", {
        body: { version: "x", input: { name: "HOME" }, webhook },
        headers: auth,
      });
      expect([webhook, v.status]).toEqual([webhook, 422]);
      expect(v.body.detail).toMatch(/this server/);
    }
    // The Host the client used counts as "self" too, whatever its port.
    const viaHost = await withHost(server.port, "model.example:8080", {
      input: { name: "HOME" },
      webhook: "http://model.example:8080/shutdown",
    });
    expect(viaHost).toBe(422);
    expect(server.runner.inFlight).toBe(0);
    expect((await request(server.url, "/health-check")).body.status).toBe("READY");
  });
});

/** fetch() cannot set Host: a raw request that claims the server was reached as `host`. */
function withHost(port: number, host: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/predictions",
        headers: { ...auth, host, "content-type": "application/json", prefer: "respond-async" },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
