import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DockerUnavailableError } from "../../src/errors.js";
import { connectionOptions, resolveDockerEndpoint } from "../../src/docker/endpoint.js";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-docker-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeContext(name: string, host: string, tls = false): void {
  const id = createHash("sha256").update(name).digest("hex");
  mkdirSync(join(dir, "contexts", "meta", id), { recursive: true });
  writeFileSync(
    join(dir, "contexts", "meta", id, "meta.json"),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
  if (tls) {
    mkdirSync(join(dir, "contexts", "tls", id, "docker"), { recursive: true });
    writeFileSync(join(dir, "contexts", "tls", id, "docker", "ca.pem"), "CA");
  }
}

describe("resolveDockerEndpoint", () => {
  it("defaults to the local socket", () => {
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({
      host: "unix:///var/run/docker.sock",
      source: "default",
    });
  });

  it("prefers DOCKER_HOST over a configured context", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "remote" }));
    writeContext("remote", "tcp://10.1.2.3:2375");
    const endpoint = resolveDockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_HOST: "unix:///tmp/d.sock" });
    expect(endpoint).toMatchObject({ host: "unix:///tmp/d.sock", source: "DOCKER_HOST" });
  });

  it("follows currentContext in config.json to the context's endpoint", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "remote", auths: {} }));
    writeContext("remote", "tcp://10.1.2.3:2375");
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: dir })).toMatchObject({
      host: "tcp://10.1.2.3:2375",
      source: "context remote",
    });
  });

  it("lets DOCKER_CONTEXT override currentContext, and reads the context's TLS files", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "remote" }));
    writeContext("remote", "tcp://10.1.2.3:2375");
    writeContext("secure", "tcp://10.9.9.9:2376", true);
    const endpoint = resolveDockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "secure" });
    expect(endpoint.host).toBe("tcp://10.9.9.9:2376");
    expect(endpoint.tls?.ca?.toString()).toBe("CA");
    expect(connectionOptions(endpoint)).toMatchObject({ host: "10.9.9.9", port: 2376, protocol: "https" });
  });

  it("treats the context named default as the local socket", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "default" }));
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: dir }).source).toBe("default");
  });

  it("names a selected context that does not exist", () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: "gone" }));
    expect(() => resolveDockerEndpoint({ DOCKER_CONFIG: dir })).toThrow(
      /Docker context "gone" is selected but not defined/,
    );
  });

  it("reports a config.json that is not JSON", () => {
    writeFileSync(join(dir, "config.json"), "{ not json");
    expect(() => resolveDockerEndpoint({ DOCKER_CONFIG: dir })).toThrow(DockerUnavailableError);
  });
});

describe("connectionOptions", () => {
  it("maps unix and tcp endpoints", () => {
    expect(connectionOptions({ host: "unix:///var/run/docker.sock", source: "default" })).toEqual({
      socketPath: "/var/run/docker.sock",
    });
    expect(connectionOptions({ host: "tcp://127.0.0.1:2375", source: "DOCKER_HOST" })).toEqual({
      host: "127.0.0.1",
      port: 2375,
      protocol: "http",
    });
  });

  it("refuses ssh:// with a hint", () => {
    expect(() => connectionOptions({ host: "ssh://me@box", source: "DOCKER_HOST" })).toThrow(
      /Unsupported Docker endpoint ssh:\/\/me@box/,
    );
  });
});
