// Proves the test environment end to end: BuildKit build FROM the offline base image through the
// located docker CLI (host networking), running the result, and the local registries answering.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateDockerCli } from "../../src/docker/cli.js";
import { execDocker } from "../helpers/docker-cli.js";
import { pingEngine } from "../../src/docker/engine.js";
import {
  AUTH_REGISTRY,
  BASE_IMAGES,
  REGISTRY,
  TEST_LABEL,
  removeImages,
  requireDocker,
  requireRegistry,
  uniqueImageName,
} from "../helpers/docker.js";

describe("docker test environment", () => {
  const image = uniqueImageName("smoke");
  let dir = "";

  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.bookworm]);
    dir = await mkdtemp(join(tmpdir(), "kiln-smoke-"));
  });

  afterAll(async () => {
    await removeImages([image]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pings the engine", async () => {
    const info = await pingEngine();
    expect(info.version).toMatch(/^\d+\.\d+/);
  });

  it("builds FROM kiln-test/bookworm with BuildKit and runs the result", async () => {
    const cli = await locateDockerCli();
    const token = `kiln-smoke-${Date.now()}`;
    await writeFile(
      join(dir, "Dockerfile"),
      `FROM ${BASE_IMAGES.bookworm}\nRUN echo ${token} > /smoke.txt\n`,
    );
    const lines: string[] = [];
    await execDocker([...cli.buildArgs, "--network", "host", "--label", TEST_LABEL, "-t", image, dir], {
      cli,
      onLine: (line) => lines.push(line),
    });
    // BuildKit's progress output (not the classic builder's "Step 1/2") proves BuildKit ran.
    expect(lines.join("\n")).toMatch(/#\d+ /);
    const run = await execDocker(
      ["run", "--rm", "--network", "host", "--label", TEST_LABEL, image, "cat", "/smoke.txt"],
      { cli },
    );
    expect(run.stdout.trim()).toBe(token);
  });

  it("reports a failing docker command with its exit status and stderr", async () => {
    await expect(execDocker(["image", "inspect", "kiln-test/does-not-exist-anywhere"])).rejects.toMatchObject(
      {
        code: "docker_command_failed",
        exitStatus: 1,
        stderr: expect.stringMatching(/No such image/i),
      },
    );
  });

  it("has the open registry on 127.0.0.1:5001 and the htpasswd one on :5002", async () => {
    await requireRegistry(REGISTRY);
    expect((await fetch(`http://${REGISTRY}/v2/`)).status).toBe(200);
    const auth = await fetch(`http://${AUTH_REGISTRY}/v2/`);
    expect(auth.status).toBe(401);
    expect(auth.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
  });
});
