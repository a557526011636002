import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient, insecureAllowed, parseChallenge } from "../../src/docker/registry.js";
import { pushFailure, layerState } from "../../src/docker/push.js";
import { parseReference } from "../../src/docker/reference.js";

describe("parseChallenge", () => {
  it("reads Bearer parameters", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:a/b:pull",
      },
    });
  });
  it("reads Basic", () => {
    expect(parseChallenge('Basic realm="kiln-test"')).toEqual({
      scheme: "basic",
      params: { realm: "kiln-test" },
    });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe("insecureAllowed", () => {
  it("allows loopback and listed registries only", () => {
    expect(insecureAllowed("127.0.0.1:5001", {})).toBe(true);
    expect(insecureAllowed("localhost:5000", {})).toBe(true);
    expect(insecureAllowed("registry.example.com", {})).toBe(false);
    expect(
      insecureAllowed("registry.example.com", { KILN_INSECURE_REGISTRIES: "a.io, registry.example.com" }),
    ).toBe(true);
  });
});

// A Bearer-token registry on 127.0.0.1 (port 0): /token checks Basic credentials, /v2/ wants the token.
describe("RegistryClient with a Bearer token service", () => {
  let server: Server;
  let registry = "";
  const tokenRequests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/token") {
        tokenRequests.push(url.search);
        const ok = req.headers.authorization === `Basic ${Buffer.from("alice:secret").toString("base64")}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        res.end(ok ? JSON.stringify({ token: "tok123" }) : "{}");
        return;
      }
      if (req.headers.authorization === "Bearer tok123") {
        res.writeHead(200).end("{}");
        return;
      }
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://${registry}/token",service="test-registry"`,
        })
        .end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("gets a token with the credentials and uses it", async () => {
    await new RegistryClient(registry, { credentials: { username: "alice", password: "secret" } }).verify();
    expect(tokenRequests.at(-1)).toBe("?service=test-registry&account=alice");
  });

  it("turns a refused token request into an AuthError naming the registry", async () => {
    await expect(
      new RegistryClient(registry, { credentials: { username: "alice", password: "wrong" } }).verify(),
    ).rejects.toMatchObject({
      code: "registry_auth",
      message: `Registry ${registry} refused access: the credentials of "alice" were rejected (HTTP 401).`,
      hint: `Log in with: kiln login ${registry} --username <user> --password-stdin`,
    });
  });
});

describe("push messages", () => {
  it("maps engine statuses to layer states", () => {
    expect(layerState("Layer already exists")).toBe("exists");
    expect(layerState("Mounted from team/other")).toBe("mounted");
    expect(layerState("Pushed")).toBe("pushed");
    expect(layerState("latest: digest: sha256:abc size: 1")).toBeUndefined();
  });

  it("classifies engine errors", () => {
    const ref = parseReference("127.0.0.1:5002/team/model:1");
    expect(pushFailure(ref, "no basic auth credentials")).toMatchObject({
      code: "registry_auth",
      hint: expect.stringContaining("kiln login 127.0.0.1:5002"),
    });
    expect(
      pushFailure(
        ref,
        'Get "http://127.0.0.1:5002/v2/": dial tcp 127.0.0.1:5002: connect: connection refused',
      ).message,
    ).toMatch(/^Cannot reach registry 127\.0\.0\.1:5002 while pushing/);
    expect(pushFailure(ref, "An image does not exist locally with the tag: x").message).toBe(
      "There is no local image 127.0.0.1:5002/team/model:1 to push.",
    );
  });
});
