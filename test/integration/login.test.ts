// kiln login / push against the htpasswd registry on 127.0.0.1:5002: refused before login, wrong
// password refused and nothing stored, right password stored where Docker stores it, push then works;
// the same through a credential helper.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogin } from "../../src/publish/login.js";
import { execDocker } from "../helpers/docker-cli.js";
import { runKiln, testContext } from "../helpers/cli.js";
import {
  AUTH_PASSWORD,
  AUTH_REGISTRY,
  AUTH_USER,
  BASE_IMAGES,
  buildTestImage,
  removeImages,
  requireDocker,
  requireRegistry,
} from "../helpers/docker.js";

const repo = `kiln-test/login-${Date.now().toString(36)}`;
const image = `${AUTH_REGISTRY}/${repo}:v1`;
let configDir = "";
const savedEnv = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, PATH: process.env.PATH };

function login(password: string, registry = AUTH_REGISTRY): Promise<string> {
  const { ctx } = testContext();
  return runLogin(
    ctx,
    registry,
    { username: AUTH_USER, passwordStdin: true },
    Readable.from([`${password}\n`]),
  );
}

describe("kiln login + push to a registry with auth", () => {
  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.bookworm]);
    await requireRegistry(AUTH_REGISTRY);
    configDir = await mkdtemp(join(tmpdir(), "kiln-docker-config-"));
    process.env.DOCKER_CONFIG = configDir;
    await buildTestImage(image, `FROM ${BASE_IMAGES.bookworm}\nRUN echo ${repo} > /id.txt\n`);
  });
  afterAll(async () => {
    process.env.DOCKER_CONFIG = savedEnv.DOCKER_CONFIG;
    process.env.PATH = savedEnv.PATH;
    if (savedEnv.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
    await removeImages([image]);
    await rm(configDir, { recursive: true, force: true });
  });

  it("refuses the push before login, naming the registry and how to log in", async () => {
    const run = await runKiln(["push", "--no-build", image]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(
      `error: Registry ${AUTH_REGISTRY} refused the push of ${AUTH_REGISTRY}/${repo}`,
    );
    expect(run.stderr).toContain(
      `hint: Log in first: kiln login ${AUTH_REGISTRY} --username <user> --password-stdin`,
    );
  });

  it("rejects a wrong password and stores nothing", async () => {
    await expect(login("not-the-password")).rejects.toMatchObject({
      code: "registry_auth",
      exitCode: 6,
      message: `Registry ${AUTH_REGISTRY} refused access: the credentials of "${AUTH_USER}" were rejected (HTTP 401).`,
    });
    await expect(readFile(join(configDir, "config.json"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("stores verified credentials in config.json like docker login, and push uses them", async () => {
    await writeFile(join(configDir, "config.json"), JSON.stringify({ auths: {}, detachKeys: "ctrl-x" }));
    const where = await login(AUTH_PASSWORD);
    expect(where).toBe(join(configDir, "config.json"));
    const config = JSON.parse(await readFile(where, "utf8")) as {
      auths: Record<string, { auth: string }>;
      detachKeys: string;
    };
    expect(Buffer.from(config.auths[AUTH_REGISTRY]!.auth, "base64").toString()).toBe(
      `${AUTH_USER}:${AUTH_PASSWORD}`,
    );
    expect(config.detachKeys).toBe("ctrl-x"); // other settings survive
    const run = await runKiln(["push", "--no-build", image]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(
      new RegExp(`^${AUTH_REGISTRY.replace(/\./g, "\\.")}/${repo}@sha256:[0-9a-f]{64}$`),
    );
    // The engine agrees: a pull with the same credentials works (docker reads the same config).
    await execDocker(["--config", configDir, "pull", image]);
  });

  it("uses a credential helper when the Docker config names one (credsStore)", async () => {
    const bin = await mkdtemp(join(tmpdir(), "kiln-cred-helper-"));
    const store = join(bin, "store.json");
    // A minimal docker-credential-* helper: store writes stdin to a file, get prints it back.
    await writeFile(
      join(bin, "docker-credential-kilntest"),
      `#!/bin/sh\ncase "$1" in\n store) cat > ${store} ;;\n get) read url; [ -f ${store} ] && cat ${store} || { echo "credentials not found in native keychain"; exit 1; } ;;\n erase) rm -f ${store} ;;\nesac\n`,
    );
    await chmod(join(bin, "docker-credential-kilntest"), 0o755);
    process.env.PATH = `${bin}:${savedEnv.PATH ?? ""}`;
    await writeFile(join(configDir, "config.json"), JSON.stringify({ credsStore: "kilntest" }));
    try {
      expect(await login(AUTH_PASSWORD)).toBe("credential helper docker-credential-kilntest");
      expect(JSON.parse(await readFile(store, "utf8"))).toEqual({
        ServerURL: AUTH_REGISTRY,
        Username: AUTH_USER,
        Secret: AUTH_PASSWORD,
      });
      const config = JSON.parse(await readFile(join(configDir, "config.json"), "utf8")) as {
        auths: Record<string, unknown>;
      };
      expect(config.auths[AUTH_REGISTRY]).toEqual({}); // no secret in the file
      const run = await runKiln(["push", "--no-build", image, "--json"]);
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as { digest: string }).digest).toMatch(/^sha256:/);
    } finally {
      process.env.PATH = savedEnv.PATH;
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("names an unreachable registry", async () => {
    await expect(login(AUTH_PASSWORD, "127.0.0.1:5998")).rejects.toMatchObject({
      code: "registry_error",
      message: expect.stringMatching(/^Cannot reach registry 127\.0\.0\.1:5998: /),
    });
  });

  it("needs --password-stdin and --username (usage errors)", async () => {
    const noStdin = await runKiln(["login", AUTH_REGISTRY, "-u", AUTH_USER]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toContain("--password-stdin");
    const noUser = await runKiln(["login", AUTH_REGISTRY, "--password-stdin"]);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain("kiln login needs --username.");
  });
});
