import { describe, expect, it } from "vitest";
import { formatInspect } from "../../src/publish/inspect.js";
import { formatBytes } from "../../src/format.js";
import { describeLabels } from "../../src/docker/inspect.js";

describe("describeLabels + formatInspect", () => {
  it("summarises Cog labels and OCI annotations", () => {
    const labels = {
      "run.cog.version": "0.1.0",
      "run.cog.config": JSON.stringify({
        build: { python_version: "3.11", gpu: true },
        predict: "predict.py:Predictor",
      }),
      "run.cog.openapi_schema": JSON.stringify({
        components: { schemas: { Input: { properties: { text: {} } } } },
      }),
      "org.opencontainers.image.source": "https://example.com/repo.git",
    };
    const lines = formatInspect({
      image: "r.io/m:1",
      source: "registry",
      id: undefined,
      digest: "sha256:abc",
      created: undefined,
      labels,
      ...describeLabels(labels),
    });
    expect(lines).toEqual([
      "Image:     r.io/m:1 (registry)",
      "Digest:    sha256:abc",
      "Cog:       0.1.0",
      "Predict:   predict.py:Predictor",
      "Python:    3.11",
      "GPU:       yes",
      "Inputs:    text",
      "source:    https://example.com/repo.git",
      "(--json prints every label, the full manifest and the OpenAPI schema)",
    ]);
  });

  it("says so when an image has no Cog labels", () => {
    const lines = formatInspect({
      image: "x:1",
      source: "local",
      id: "sha256:1",
      digest: undefined,
      created: undefined,
      labels: {},
      ...describeLabels({}),
    });
    expect(lines).toContain("No run.cog.* labels: this image was not built by kiln or Cog.");
  });
});

describe("formatBytes", () => {
  it.each([
    [512, "512 B"],
    [1536, "1.5 KiB"],
    [5 * 1024 * 1024, "5.0 MiB"],
    [300 * 1024 * 1024, "300.0 MiB"],
  ])("%d -> %s", (n, s) => expect(formatBytes(n)).toBe(s));
});
