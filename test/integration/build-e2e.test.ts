/**
 * kiln build end to end, offline: a TS and a Python predictor built on the local kiln-test base images
 * with the real runtime bundle, run with `docker run --network host`, one prediction over HTTP, labels checked.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BASE_NODE,
  BASE_PYTHON,
  cleanup,
  kiln,
  startContainer,
  tempProject,
  uniqueTag,
  requireBuildEnv,
} from "./build-helpers.js";
import { freePort } from "../helpers/registry.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/build");
const BUNDLE = join(import.meta.dirname, "../../dist/runtime-bundle");
const dirs: string[] = [];
afterAll(() => cleanup(dirs));

interface BuildJson {
  image: string;
  imageId: string;
  labels: Record<string, string>;
  layers: string[];
}

async function buildAndPredict(
  fixture: string,
  base: string,
): Promise<{ result: BuildJson; prediction: Record<string, unknown> }> {
  expect(
    existsSync(join(BUNDLE, "server.mjs")),
    "run `npm run build` first: dist/runtime-bundle is missing",
  ).toBe(true);
  const dir = await tempProject(join(FIXTURES, fixture));
  dirs.push(dir);
  const tag = uniqueTag(fixture.replace(/^_/, ""));
  const r = await kiln(["build", "-t", tag, "--base-image", base, "--node-image", BASE_NODE, "--json"], dir);
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout) as BuildJson;
  const port = await freePort();
  const container = await startContainer(tag, port);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { text: "there" } }),
    });
    return { result, prediction: (await res.json()) as Record<string, unknown> };
  } finally {
    await container.stop();
  }
}

function checkLabels(labels: Record<string, string>, predictorRaw: string): void {
  expect(labels["run.cog.version"]).toMatch(/^\d+\.\d+\.\d+/);
  expect(JSON.parse(labels["run.cog.config"] ?? "{}")).toMatchObject({ predict: predictorRaw });
  // Not a git checkout and no SOURCE_DATE_EPOCH: no created label (never the build's own time).
  expect(labels["org.opencontainers.image.created"]).toBeUndefined();
  const doc = JSON.parse(labels["run.cog.openapi_schema"] ?? "{}") as {
    openapi?: string;
    components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
  };
  expect(doc.openapi).toBe("3.0.2");
  expect(doc.components?.schemas?.Input?.properties?.text).toMatchObject({
    type: "string",
    description: "what to echo",
  });
}

describe("kiln build end to end", () => {
  beforeAll(requireBuildEnv);
  it("builds and runs a TypeScript predictor", async () => {
    const { result, prediction } = await buildAndPredict("_e2e-ts", BASE_NODE);
    expect(prediction).toMatchObject({ status: "succeeded", output: "Hi there" });
    checkLabels(result.labels, "predict.ts:predictor");
  });

  it("builds and runs a Python predictor (schema read inside the image)", async () => {
    const { result, prediction } = await buildAndPredict("_e2e-python", BASE_PYTHON);
    expect(prediction).toMatchObject({ status: "succeeded", output: "Hi there" });
    checkLabels(result.labels, "predict.py:Predictor");
  });
});
