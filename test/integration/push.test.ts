// kiln push against the real registry on 127.0.0.1:5001: pinned digest, pull back and run, and a
// re-push after a code change uploads only the changed layer (asserted from the registry's own log).
import { readFile, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execDocker } from "../helpers/docker-cli.js";
import { RegistryClient } from "../../src/docker/registry.js";
import { runKiln } from "../helpers/cli.js";
import {
  BASE_IMAGES,
  REGISTRY,
  TEST_LABEL,
  buildTestImage,
  registryPaths,
  removeImages,
  requireDocker,
  requireRegistry,
} from "../helpers/docker.js";

const repo = `kiln-test/push-${Date.now().toString(36)}`;
const name = `${REGISTRY}/${repo}`;
const created: string[] = [];

/** Weights first (a big, stable layer), code last: what kiln's own Dockerfiles do. */
function dockerfile(code: string): string {
  return `FROM ${BASE_IMAGES.bookworm}\nCOPY weights.bin /weights.bin\nRUN echo '${code}' > /code.txt\nCMD ["cat", "/code.txt"]\n`;
}
// Random (incompressible) weights so the layer has a real size; same bytes for both builds.
const weights = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 2654435761) % 251));

/** Blob digests the registry received uploads for since byte `from` of its log (for our repository). */
async function uploadsSince(from: number): Promise<string[]> {
  const log = (await readFile(registryPaths(REGISTRY).log)).subarray(from).toString("utf8");
  const digests = new Set<string>();
  for (const line of log.split("\n")) {
    if (!line.includes(`PUT /v2/${repo}/blobs/uploads/`)) continue;
    const m = /digest=(sha256(?:%3A|:)[0-9a-f]{64})/.exec(line);
    if (m?.[1]) digests.add(m[1].replace("%3A", ":"));
  }
  return [...digests];
}

describe("kiln push", () => {
  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.bookworm]);
    await requireRegistry(REGISTRY);
  });
  afterAll(async () => {
    await removeImages(created);
  });

  let first: { digest: string; pinned: string; layers: string[] } | undefined;

  it("pushes a local image and prints the pinned name@sha256", async () => {
    created.push(`${name}:v1`);
    await buildTestImage(`${name}:v1`, dockerfile(`code v1 ${repo}`), { "weights.bin": weights });
    const run = await runKiln(["push", "--no-build", `${name}:v1`]);
    expect(run.stderr).toContain(`Pushing ${name}:v1`);
    expect(run.code).toBe(0);
    const pinned = run.stdout.trim();
    expect(pinned).toMatch(new RegExp(`^${name.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}$`));
    const remote = await new RegistryClient(REGISTRY).image(repo, "v1");
    expect(pinned.endsWith(remote.digest)).toBe(true);
    first = { digest: remote.digest, pinned, layers: remote.layers.map((l) => l.digest) };
  });

  it("pulls the pinned reference back and runs it", async () => {
    expect(first).toBeDefined();
    await removeImages([`${name}:v1`]);
    created.push(first!.pinned);
    await execDocker(["pull", first!.pinned]);
    const run = await execDocker(["run", "--rm", "--network", "host", "--label", TEST_LABEL, first!.pinned]);
    expect(run.stdout.trim()).toBe(`code v1 ${repo}`);
  });

  it("re-pushes after a code change uploading only the changed layer", async () => {
    expect(first).toBeDefined();
    created.push(`${name}:v2`);
    await buildTestImage(`${name}:v2`, dockerfile(`code v2 ${repo}`), { "weights.bin": weights });
    const logSize = (await stat(registryPaths(REGISTRY).log)).size;
    const run = await runKiln(["push", "--no-build", `${name}:v2`, "--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      pinned: string;
      layers: { id: string; status: string }[];
      bytesUploaded: number;
    };
    // kiln reports the base and weights layers as already there, and one pushed layer.
    expect(result.layers.filter((l) => l.status === "exists")).toHaveLength(2);
    expect(result.layers.filter((l) => l.status === "pushed")).toHaveLength(1);
    expect(result.bytesUploaded).toBeLessThan(weights.length / 10);

    const second = await new RegistryClient(REGISTRY).image(repo, "v2");
    const changed = second.layers.map((l) => l.digest).filter((d) => !first!.layers.includes(d));
    expect(changed).toHaveLength(1);
    const uploaded = await uploadsSince(logSize);
    // The registry saw uploads of the new layer and the new image config, and nothing of the old layers.
    expect(uploaded).toContain(changed[0]);
    for (const old of first!.layers) expect(uploaded).not.toContain(old);
    expect(uploaded.length).toBeLessThanOrEqual(2);
  });

  it("says clearly when the local image does not exist", async () => {
    const run = await runKiln(["push", "--no-build", `${name}:never-built`]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`There is no local image ${name}:never-built to push.`);
    expect(run.stderr).toContain(`hint: Build it first: kiln build -t ${name}:never-built`);
  });

  it("rejects an invalid image name with a usage error", async () => {
    const run = await runKiln(["push", "--no-build", `${REGISTRY}/Kiln/UPPER:tag`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `Invalid image name "${REGISTRY}/Kiln/UPPER:tag": repository names must be lowercase ("Kiln").`,
    );
  });

  it("names an unreachable registry and keeps the next push working", async () => {
    const dead = `127.0.0.1:5999/${repo}:v1`;
    created.push(dead);
    await execDocker(["tag", `${name}:v2`, dead]);
    const run = await runKiln(["push", "--no-build", dead]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/Cannot reach registry 127\.0\.0\.1:5999 while pushing/);
    const again = await runKiln(["push", "--no-build", `${name}:v2`]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already in the registry/);
  });
});
