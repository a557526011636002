import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getCredentials, helperFor, storeCredentials } from "../../src/docker/credentials.js";

let dir = "";
let env: Record<string, string | undefined> = {};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-creds-"));
  env = { DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH ?? ""}` };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("credentials in config.json", () => {
  it("returns nothing when there is no config", async () => {
    expect(await getCredentials("r.io", env)).toBeUndefined();
  });

  it("round-trips base64 auths and keeps other keys, with mode 0600", async () => {
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ psFormat: "table", auths: { "other.io": { auth: "eDp5" } } }),
    );
    expect(await storeCredentials("r.io:5000", { username: "u", password: "p:w" }, env)).toBe(
      join(dir, "config.json"),
    );
    const saved = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(saved).toEqual({
      psFormat: "table",
      auths: { "other.io": { auth: "eDp5" }, "r.io:5000": { auth: Buffer.from("u:p:w").toString("base64") } },
    });
    expect(await getCredentials("r.io:5000", env)).toEqual({ username: "u", password: "p:w" });
    expect(await getCredentials("other.io", env)).toEqual({ username: "x", password: "y" });
  });

  it("finds entries Docker wrote as URLs, and Docker Hub under its v1 key", async () => {
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({
        auths: {
          "https://r.io/v1/": { auth: Buffer.from("a:b").toString("base64") },
          "https://index.docker.io/v1/": { auth: Buffer.from("h:i").toString("base64") },
        },
      }),
    );
    expect(await getCredentials("r.io", env)).toEqual({ username: "a", password: "b" });
    expect(await getCredentials("docker.io", env)).toEqual({ username: "h", password: "i" });
  });

  it("reports a config that is not JSON", async () => {
    writeFileSync(join(dir, "config.json"), "{oops");
    await expect(getCredentials("r.io", env)).rejects.toMatchObject({
      code: "registry_auth",
      message: expect.stringContaining(`Cannot read the Docker config ${join(dir, "config.json")}`),
    });
  });
});

describe("credential helpers", () => {
  function helper(name: string, script: string): void {
    writeFileSync(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, `docker-credential-${name}`), 0o755);
  }

  it("prefers credHelpers for the registry over credsStore", () => {
    expect(helperFor({ credsStore: "desktop", credHelpers: { "r.io": "ecr" } }, "r.io")).toBe("ecr");
    expect(helperFor({ credsStore: "desktop" }, "other.io")).toBe("desktop");
    expect(helperFor({}, "other.io")).toBeUndefined();
  });

  it("gets credentials from the helper, with the server URL on stdin", async () => {
    helper(
      "fake",
      `read url; echo "{\\"ServerURL\\":\\"$url\\",\\"Username\\":\\"u-$url\\",\\"Secret\\":\\"s\\"}"`,
    );
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { "r.io": "fake" } }));
    expect(await getCredentials("r.io", env)).toEqual({ username: "u-r.io", password: "s" });
  });

  it("treats 'credentials not found' as no credentials", async () => {
    helper("empty", 'echo "credentials not found in native keychain"; exit 1');
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credsStore: "empty" }));
    expect(await getCredentials("r.io", env)).toBeUndefined();
  });

  it("says which helper is missing", async () => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credsStore: "nowhere" }));
    await expect(getCredentials("r.io", env)).rejects.toMatchObject({
      message:
        'The Docker config names credential helper "nowhere", but docker-credential-nowhere cannot be run.',
    });
  });
});
