// `kiln push` in a project builds (cached) and pushes; after a one-line code change the re-push does
// not upload the weights again (asserted from the registry's own log) and uploads under 1% of them.
import { randomBytes } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localImageId } from "../../src/docker/build.js";
import { RegistryClient } from "../../src/docker/registry.js";
import { runKiln } from "../helpers/cli.js";
import {
  BASE_IMAGES,
  REGISTRY,
  registryPaths,
  removeImages,
  requireDocker,
  requireRegistry,
} from "../helpers/docker.js";
import { FAKE_BUNDLE, writeWeightsProject } from "./build-helpers.js";

// The build helper's fake runtime bundle (FAKE_BUNDLE) keeps this test independent of `npm run build`.
const repo = `kiln-test/push-build-${Date.now().toString(36)}`;
const image = `${REGISTRY}/${repo}:latest`;
const weights = randomBytes(24 * 1024 * 1024);
// Image ids built here: the first build loses its tag to the second, so remove both by id.
const builtIds: string[] = [];

interface PushJson {
  digest: string;
  bytesUploaded: number;
  durationMs: number;
  layers: { id: string; status: string }[];
  build?: { imageId: string };
}

async function uploadsSince(from: number): Promise<string[]> {
  const log = (await readFile(registryPaths(REGISTRY).log)).subarray(from).toString("utf8");
  return log
    .split("\n")
    .filter((l) => l.includes(`PUT /v2/${repo}/blobs/uploads/`))
    .map((l) => /digest=(sha256(?:%3A|:)[0-9a-f]{64})/.exec(l)?.[1]?.replace("%3A", ":"))
    .filter((d): d is string => d !== undefined);
}

describe("kiln push builds, then re-pushes only what changed", () => {
  let dir = "";
  const savedBundle = process.env.KILN_RUNTIME_BUNDLE;
  const flags = [
    "--base-image",
    BASE_IMAGES.python,
    "--node-image",
    BASE_IMAGES.node,
    "--openapi-schema",
    "schema.json",
    "--json",
  ];

  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.python, BASE_IMAGES.node]);
    await requireRegistry(REGISTRY);
    process.env.KILN_RUNTIME_BUNDLE = FAKE_BUNDLE;
    dir = await mkdtemp(join(tmpdir(), "kiln-push-build-"));
    await writeWeightsProject(
      dir,
      `image: ${image}\nbuild:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\nweights:\n  - models/\n`,
      weights,
    );
  });
  afterAll(async () => {
    if (savedBundle === undefined) delete process.env.KILN_RUNTIME_BUNDLE;
    else process.env.KILN_RUNTIME_BUNDLE = savedBundle;
    await removeImages([image, ...builtIds]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pushes the image named in cog.yaml, then after a code change skips the weights", async () => {
    const first = await runKiln(["push", ...flags], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout) as PushJson;
    expect(r1.build?.imageId).toMatch(/^sha256:/);
    builtIds.push(r1.build!.imageId);
    const m1 = await new RegistryClient(REGISTRY).image(repo, "latest");
    expect(m1.digest).toBe(r1.digest);

    await appendFile(join(dir, "predict.py"), "# a one-line change\n");
    const logSize = (await stat(registryPaths(REGISTRY).log)).size;
    const second = await runKiln(["push", ...flags], dir);
    expect(second.code).toBe(0);
    const r2 = JSON.parse(second.stdout) as PushJson;
    expect(r2.digest).not.toBe(r1.digest);
    builtIds.push(r2.build!.imageId);

    const m2 = await new RegistryClient(REGISTRY).image(repo, "latest");
    // Random bytes do not compress: the weights layer is the one about their size.
    const weightsLayers = m1.layers.filter(
      (l) => l.size > weights.length * 0.99 && l.size < weights.length * 1.02,
    );
    expect(weightsLayers).toHaveLength(1);
    expect(m2.layers.map((l) => l.digest)).toContain(weightsLayers[0]!.digest);
    const uploaded = await uploadsSince(logSize);
    expect(uploaded).not.toContain(weightsLayers[0]!.digest);
    const changed = m2.layers.filter((l) => !m1.layers.some((o) => o.digest === l.digest));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    for (const l of changed) expect(uploaded).toContain(l.digest);
    // Bytes the registry stored for the re-push: the changed layers only, well under 1% of the weights.
    expect(changed.reduce((n, l) => n + l.size, 0)).toBeLessThan(weights.length / 100);
    expect(r2.layers.filter((l) => l.status === "exists").length).toBeGreaterThanOrEqual(
      m1.layers.length - changed.length,
    );
    // The first image lost its tag to the second: the build removed it instead of leaving it dangling.
    expect(await localImageId(r1.build!.imageId)).toBeNull();
  });

  it("rebuilds an unchanged project to the same image id, and re-pushes the same digest uploading nothing", async () => {
    const before = await runKiln(["push", ...flags], dir);
    expect(before.code).toBe(0);
    const r1 = JSON.parse(before.stdout) as PushJson;
    builtIds.push(r1.build!.imageId);
    const logSize = (await stat(registryPaths(REGISTRY).log)).size;
    const again = await runKiln(["push", ...flags], dir);
    expect(again.code).toBe(0);
    const r2 = JSON.parse(again.stdout) as PushJson;
    expect(r2.build?.imageId).toBe(r1.build?.imageId);
    expect(r2.digest).toBe(r1.digest);
    expect(await uploadsSince(logSize)).toEqual([]);
    expect(r2.layers.every((l) => l.status === "exists")).toBe(true);
  });
});
