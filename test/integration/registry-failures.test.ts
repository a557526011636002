// A registry that dies mid-upload gives a clear error and leaves nothing that breaks the next push;
// a TLS registry signed by a private CA works with --ca-cert and explains itself without it.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogin } from "../../src/publish/login.js";
import { pushImage } from "../../src/docker/push.js";
import { parseReference } from "../../src/docker/reference.js";
import { runKiln, testContext } from "../helpers/cli.js";
import { BASE_IMAGES, buildTestImage, removeImages, requireDocker } from "../helpers/docker.js";
import { scratchRegistry, type ScratchRegistry } from "../helpers/registry.js";

describe("a registry that fails mid-upload", () => {
  let registry: ScratchRegistry;
  let image = "";
  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.bookworm]);
    registry = await scratchRegistry();
    image = `${registry.address}/kiln-test/midway:v1`;
    // 80 MB of random bytes: the upload takes long enough to be cut off in the middle.
    await buildTestImage(image, `FROM ${BASE_IMAGES.bookworm}\nCOPY big.bin /big.bin\n`, {
      "big.bin": randomBytes(80 * 1024 * 1024),
    });
  });
  afterAll(async () => {
    await removeImages([image]);
    await registry?.dispose();
  });

  it("fails clearly when the registry is killed during the upload, and the next push succeeds", async () => {
    let killed: Promise<void> | undefined;
    const attempt = pushImage(parseReference(image), {
      onLayer: (layer) => {
        if (layer.state === "pushing" && layer.current > 0 && !killed) killed = registry.kill();
      },
    });
    const error = await attempt.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(killed).toBeDefined();
    expect(error).toMatchObject({ code: "registry_error", exitCode: 6 });
    expect((error as Error).message).toMatch(
      new RegExp(`^Cannot reach registry ${registry.address.replace(/\./g, "\\.")} while pushing`),
    );

    await registry.start();
    const again = await runKiln(["push", "--no-build", image]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toMatch(/@sha256:[0-9a-f]{64}$/);
  });
});

describe("a TLS registry with a private CA", () => {
  let registry: ScratchRegistry;
  beforeAll(async () => {
    registry = await scratchRegistry({ tls: true });
  });
  afterAll(async () => {
    await registry?.dispose();
  });

  it("is refused without the CA, with a hint to pass --ca-cert", async () => {
    const run = await runKiln(["inspect", "--remote", `${registry.address}/kiln-test/none:v1`]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: The TLS certificate of registry ${registry.address} is not trusted`);
    expect(run.stderr).toContain("hint: Pass the registry's CA certificate with --ca-cert FILE");
  });

  it("answers over TLS with --ca-cert (image lookups reach the registry)", async () => {
    const run = await runKiln([
      "inspect",
      "--remote",
      "--ca-cert",
      registry.caFile!,
      `${registry.address}/kiln-test/none:v1`,
    ]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: kiln-test/none:v1 was not found in registry ${registry.address}.`);
  });

  it("lets kiln login verify over TLS with --ca-cert", async () => {
    const config = await mkdtemp(join(tmpdir(), "kiln-docker-config-"));
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = config;
    try {
      const { ctx, stdout } = testContext();
      const opts = { username: "someone", passwordStdin: true, ca: await readFile(registry.caFile!) };
      await runLogin(ctx, registry.address, opts, Readable.from(["pw\n"]));
      expect(stdout()).toContain(`Login succeeded: someone @ ${registry.address}`);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      await rm(config, { recursive: true, force: true });
    }
  });
});
