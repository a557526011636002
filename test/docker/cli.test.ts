import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chooseCli, majorVersion, type DockerCli } from "../../src/docker/cli.js";
import { execDocker } from "../helpers/docker-cli.js";

describe("majorVersion", () => {
  it.each([
    ["20.10.24+dfsg1", 20],
    ["28.3.1", 28],
    ["v24.0.7", 24],
    ["", undefined],
    ["dev", undefined],
  ])("%s -> %s", (input, expected) => expect(majorVersion(input)).toBe(expected));
});

describe("chooseCli", () => {
  it("skips a new client without buildx and takes an old one with DOCKER_BUILDKIT=1", () => {
    const cli = chooseCli([
      { path: "/usr/local/bin/docker", buildx: false, version: "28.3.1" },
      { path: "/usr/bin/docker", buildx: false, version: "20.10.24+dfsg1" },
    ]);
    expect(cli).toEqual({
      path: "/usr/bin/docker",
      mode: "buildkit-env",
      version: "20.10.24+dfsg1",
      env: { DOCKER_BUILDKIT: "1" },
      buildArgs: ["build"],
    });
  });

  it("prefers buildx when the first client has it", () => {
    const cli = chooseCli([{ path: "/a/docker", buildx: true, version: "27.0.0" }]);
    expect(cli).toMatchObject({ mode: "buildx", buildArgs: ["buildx", "build", "--load"] });
  });

  it("finds nothing when every client is new and lacks buildx (or is unknown)", () => {
    expect(
      chooseCli([
        { path: "/a/docker", buildx: false, version: "25.0.0" },
        { path: "/b/docker", buildx: false, version: undefined },
      ]),
    ).toBeUndefined();
  });
});

describe("execDocker", () => {
  // A fake client script stands in for docker, so the error mapping is tested without an engine.
  const dir = mkdtempSync(join(tmpdir(), "kiln-fake-docker-"));
  const fake = join(dir, "docker");
  writeFileSync(
    fake,
    '#!/bin/sh\nif [ "$1" = daemon ]; then echo "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?" >&2; exit 1; fi\n' +
      'if [ "$1" = fail ]; then echo "line one" >&2; echo "boom: bad thing" >&2; exit 3; fi\necho "buildkit=$DOCKER_BUILDKIT args=$*"\n',
  );
  chmodSync(fake, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli: DockerCli = {
    path: fake,
    mode: "buildkit-env",
    version: "20.10.0",
    env: { DOCKER_BUILDKIT: "1" },
    buildArgs: ["build"],
  };

  it("passes the client's environment and streams lines", async () => {
    const lines: string[] = [];
    const result = await execDocker(["build", "."], { cli, onLine: (l) => lines.push(l) });
    expect(result.stdout).toBe("buildkit=1 args=build .");
    expect(lines).toEqual(["buildkit=1 args=build ."]);
  });

  it("throws DockerCommandError with the exit status and stderr tail", async () => {
    await expect(execDocker(["fail"], { cli })).rejects.toMatchObject({
      code: "docker_command_failed",
      message: "docker fail failed with exit code 3.",
      exitStatus: 3,
      details: ["line one", "boom: bad thing"],
    });
  });

  it("maps 'Cannot connect to the Docker daemon' to DockerUnavailableError", async () => {
    await expect(execDocker(["daemon"], { cli })).rejects.toMatchObject({
      code: "docker_unavailable",
      exitCode: 4,
    });
  });

  it("reports a client binary that cannot run", async () => {
    await expect(execDocker(["x"], { cli: { ...cli, path: join(dir, "missing") } })).rejects.toMatchObject({
      code: "docker_unavailable",
    });
  });
});
