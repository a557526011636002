// kiln inspect reads Cog/kiln labels locally and from the registry; the registry path fetches only
// the manifest and the config blob (checked in the registry's log), never a layer.
import { readFile, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/docker/registry.js";
import { runKiln } from "../helpers/cli.js";
import {
  BASE_IMAGES,
  REGISTRY,
  buildTestImage,
  registryPaths,
  removeImages,
  requireDocker,
  requireRegistry,
} from "../helpers/docker.js";

const repo = `kiln-test/inspect-${Date.now().toString(36)}`;
const image = `${REGISTRY}/${repo}:v1`;
const config = { build: { python_version: "3.11", gpu: false }, predict: "predict.py:Predictor" };
const schema = {
  openapi: "3.0.2",
  components: { schemas: { Input: { properties: { prompt: {}, steps: {} } } } },
};

function dockerfile(): string {
  const label = (k: string, v: string): string => `LABEL ${k}=${JSON.stringify(v)}`;
  return [
    `FROM ${BASE_IMAGES.bookworm}`,
    `RUN echo ${repo} > /id.txt`,
    label("run.cog.version", "0.1.0"),
    label("run.cog.config", JSON.stringify(config)),
    label("run.cog.openapi_schema", JSON.stringify(schema)),
    label("org.opencontainers.image.revision", "0123abcd"),
    "",
  ].join("\n");
}

interface InspectJson {
  source: string;
  digest?: string;
  labels: Record<string, string>;
  cog: { version: string; config: unknown; openapiSchema: unknown };
  oci: Record<string, string>;
}

describe("kiln inspect", () => {
  let pinned = "";
  beforeAll(async () => {
    await requireDocker([BASE_IMAGES.bookworm]);
    await requireRegistry(REGISTRY);
    await buildTestImage(image, dockerfile());
    const push = await runKiln(["push", "--no-build", image]);
    expect(push.code).toBe(0);
    pinned = push.stdout.trim();
  });
  afterAll(async () => {
    await removeImages([image]);
  });

  it("reads the labels of a local image", async () => {
    const run = await runKiln(["inspect", image]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Image:     ${image} (local engine)`);
    expect(run.stdout).toContain("Cog:       0.1.0");
    expect(run.stdout).toContain("Predict:   predict.py:Predictor");
    expect(run.stdout).toContain("Inputs:    prompt, steps");
    expect(run.stdout).toContain("revision:  0123abcd");
  });

  it("reads the labels from the registry without pulling a layer", async () => {
    await removeImages([image]); // nothing local any more
    const log = registryPaths(REGISTRY).log;
    const from = (await stat(log)).size;
    const run = await runKiln(["inspect", pinned, "--json"]);
    expect(run.code).toBe(0);
    const info = JSON.parse(run.stdout) as InspectJson;
    expect(info.source).toBe("registry");
    expect(pinned.endsWith(info.digest ?? "?")).toBe(true);
    expect(info.cog).toEqual({ version: "0.1.0", config, openapiSchema: schema });
    expect(info.oci).toEqual({ revision: "0123abcd" });
    const blobGets = (await readFile(log))
      .subarray(from)
      .toString("utf8")
      .split("\n")
      .filter((l) => l.includes(`GET /v2/${repo}/blobs/`));
    const remote = await new RegistryClient(REGISTRY).image(repo, "v1");
    expect(blobGets).toHaveLength(1); // the config blob
    for (const layer of remote.layers) expect(blobGets.join("\n")).not.toContain(layer.digest);
  });

  it("says when the image is in neither place", async () => {
    const run = await runKiln(["inspect", `${REGISTRY}/${repo}:missing`]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`error: ${repo}:missing was not found in registry ${REGISTRY}.`);
  });
});
