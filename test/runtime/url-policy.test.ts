/**
 * Risk 1, decided: with KILN_DENY_PRIVATE_URLS=1 file inputs whose URL resolves to a loopback, private
 * or link-local address are refused (the prediction fails saying why); data: URIs and the server's own
 * /v1/files uploads still work. Off by default, like Cog.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../src/runtime/config.js";
import { DEFAULT_FILE_LIMITS } from "../../src/runtime/files.js";
import { isPrivateAddress } from "../../src/runtime/url-policy.js";
import { request, startFixture } from "./helpers.js";

describe("private address classification", () => {
  it.each([
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.32.0.1", false],
    ["192.168.1.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["8.8.8.8", false],
    ["::1", true],
    ["::", true],
    ["fe80::1", true],
    ["fd12:3456::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:8.8.8.8", false],
    ["2001:4860:4860::8888", false],
  ])("%s -> %s", (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });

  it("is enabled by KILN_DENY_PRIVATE_URLS=1 and off by default", () => {
    const env = { KILN_PREDICTOR: "predict.py:Predictor" };
    expect(configFromEnv([], env).fileLimits).toBeUndefined();
    expect(configFromEnv([], { ...env, KILN_DENY_PRIVATE_URLS: "1" }).fileLimits?.denyPrivateAddresses).toBe(
      true,
    );
  });
});

describe("a server with the policy on", () => {
  let files: Server;
  let filesUrl: string;
  beforeAll(async () => {
    files = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("inside"));
    await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => files.close(() => r())));

  it("refuses a loopback URL (and localhost), accepts data: URIs and its own uploads", async () => {
    const s = await startFixture("files", {
      fileLimits: { ...DEFAULT_FILE_LIMITS, denyPrivateAddresses: true },
    });
    try {
      for (const url of [`${filesUrl}/a.txt`, `http://localhost:${new URL(filesUrl).port}/a.txt`]) {
        const r = await request(s.url, "/predictions", { body: { input: { image: url } } });
        expect(r.body.status).toBe("failed");
        expect(r.body.error).toMatch(/private\/loopback\/link-local address, refused/);
      }
      const data = `data:text/plain;base64,${Buffer.from("hi").toString("base64")}`;
      expect((await request(s.url, "/predictions", { body: { input: { image: data } } })).body.status).toBe(
        "succeeded",
      );
      const form = new FormData();
      form.set("content", new Blob(["uploaded"]), "u.txt");
      const up = (await (await fetch(`${s.url}/v1/files`, { method: "POST", body: form })).json()) as {
        urls: { get: string };
      };
      const own = await request(s.url, "/predictions", { body: { input: { image: up.urls.get } } });
      expect(own.body.status).toBe("succeeded");
    } finally {
      await s.close();
    }
  });

  it("with the policy off (default), the same loopback URL downloads", async () => {
    const s = await startFixture("files");
    try {
      const r = await request(s.url, "/predictions", { body: { input: { image: `${filesUrl}/a.txt` } } });
      expect(r.body.status).toBe("succeeded");
    } finally {
      await s.close();
    }
  });
});
