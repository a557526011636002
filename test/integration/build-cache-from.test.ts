// CI builds: `kiln build --push` stores inline cache (and the dependencies image as <repo>:kiln-deps);
// on a cold machine (local images and BuildKit cache gone) `--cache-from <image>` reuses the weights layer.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execDocker } from "../helpers/docker-cli.js";
import { inspectImage } from "../../src/docker/build.js";
import { RegistryClient } from "../../src/docker/registry.js";
import { runKiln } from "../helpers/cli.js";
import { BASE_IMAGES, REGISTRY, removeImages, requireDocker, requireRegistry } from "../helpers/docker.js";
import { FAKE_BUNDLE, writeWeightsProject } from "./build-helpers.js";

const repo = `kiln-test/cache-from-${Date.now().toString(36)}`;
const image = `${REGISTRY}/${repo}:v1`;
const weights = randomBytes(6 * 1024 * 1024);
const created: string[] = [];

interface BuildPushJson {
  pinned: string;
  digest: string;
  cacheImage?: string;
  build: { imageId: string; depsImage: string; layers: string[] };
}

describe("kiln build --push, then --cache-from on a cold machine", () => {
  let dir = "";
  const savedBundle = process.env.KILN_RUNTIME_BUNDLE;
  const common = ["--node-image", BASE_IMAGES.node, "--openapi-schema", "schema.json"];

  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.python, BASE_IMAGES.node]);
    await requireRegistry(REGISTRY);
    process.env.KILN_RUNTIME_BUNDLE = FAKE_BUNDLE;
    dir = await mkdtemp(join(tmpdir(), "kiln-cache-from-"));
    await writeWeightsProject(
      dir,
      `build:\n  python_version: "3.11"\n  base_image: ${BASE_IMAGES.python}\npredict: "predict.py:Predictor"\nweights:\n  - models/\n`,
      weights,
    );
  });
  afterAll(async () => {
    if (savedBundle === undefined) delete process.env.KILN_RUNTIME_BUNDLE;
    else process.env.KILN_RUNTIME_BUNDLE = savedBundle;
    await removeImages([image, `${REGISTRY}/${repo}:kiln-deps`, ...created]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reuses the registry's weights and dependency layers after the local cache is cleared", async () => {
    const first = await runKiln(["build", "--push", "-t", image, ...common, "--json"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout) as BuildPushJson;
    expect(r1.pinned).toBe(`${REGISTRY}/${repo}@${r1.digest}`);
    expect(r1.cacheImage).toMatch(new RegExp(`^${REGISTRY}/${repo}@sha256:`));
    created.push(r1.build.imageId, r1.build.depsImage);
    const registry = new RegistryClient(REGISTRY);
    expect((await registry.image(repo, "v1")).digest).toBe(r1.digest);
    await registry.image(repo, "kiln-deps");
    const depsLayers = (await inspectImage(r1.build.depsImage)).layers;
    expect(r1.build.layers.slice(0, depsLayers.length)).toEqual(depsLayers);

    // A cold CI machine: none of the images built above, and no BuildKit cache.
    await removeImages([image, r1.build.depsImage, r1.build.imageId]);
    await execDocker(["builder", "prune", "-af"]);

    const second = await runKiln(
      ["build", "--cache-from", image, "-t", image, "--progress", "plain", ...common],
      dir,
    );
    expect(second.code, second.stderr).toBe(0);
    const lines = second.stderr.split("\n");
    expect(lines.some((l) => l.includes("building dependencies and weights"))).toBe(true);
    const weightsStep = lines.findIndex((l) => /COPY kiln\/weights\/0\/ \//.test(l));
    expect(weightsStep, second.stderr).toBeGreaterThan(-1);
    expect(lines[weightsStep + 1]?.trim(), second.stderr).toBe("CACHED");
    // Every dependency step (packages, weights, runtime) came from the registry: none ran.
    expect(second.stderr).not.toMatch(/done in/);
    const rebuilt = await inspectImage(image);
    created.push(rebuilt.id);
    expect(rebuilt.layers.slice(0, depsLayers.length)).toEqual(depsLayers);
  });
});
