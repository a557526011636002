/**
 * Weights layers are reproducible: two clean (--no-cache) builds of the same project, copied to two
 * directories with different file mtimes (as on two machines), give identical weights layer digests;
 * and a code-only change leaves every layer but the code layer untouched.
 */
import { appendFile, mkdir, utimes, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../src/build/image.js";
import { loadFixtureManifest as readManifestForTest } from "../build/fixture-manifest.js";
import {
  BASE_NODE,
  BASE_PYTHON,
  FAKE_BUNDLE,
  cleanup,
  tempProject,
  uniqueTag,
  requireBuildEnv,
} from "./build-helpers.js";

const dirs: string[] = [];

async function weightsProject(mtime: Date, weights: Buffer[]): Promise<string> {
  const dir = await tempProject(null);
  dirs.push(dir);
  await writeFile(
    join(dir, "cog.yaml"),
    'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\nweights:\n  - models/\n',
  );
  await writeFile(join(dir, "predict.py"), "class Predictor:\n    pass\n");
  await writeFile(join(dir, "schema.json"), '{"openapi":"3.0.2"}');
  await mkdir(join(dir, "models/sub"), { recursive: true });
  const names = ["models/a.bin", "models/sub/b.bin", "models/c.bin"];
  for (const [i, name] of names.entries()) {
    await writeFile(join(dir, name), weights[i] ?? Buffer.alloc(0));
    await utimes(join(dir, name), mtime, mtime);
  }
  return dir;
}

describe("reproducible weights layers", () => {
  beforeAll(requireBuildEnv);
  let env: string | undefined;
  beforeAll(() => {
    env = process.env.KILN_RUNTIME_BUNDLE;
    process.env.KILN_RUNTIME_BUNDLE = FAKE_BUNDLE;
  });
  afterAll(async () => {
    if (env === undefined) delete process.env.KILN_RUNTIME_BUNDLE;
    else process.env.KILN_RUNTIME_BUNDLE = env;
    await cleanup(dirs);
  });

  it("gives identical weights layer digests on two clean builds, and a code change touches only the code layer", async () => {
    // 70 MB file gets its own layer; the two small ones are batched into another.
    const weights = [randomBytes(70 * 1024 * 1024), randomBytes(1000), randomBytes(2000)];
    const a = await weightsProject(new Date("2020-01-01T00:00:00Z"), weights);
    const b = await weightsProject(new Date("2024-06-01T12:34:56Z"), weights);
    const opts = { baseImage: BASE_PYTHON, nodeImage: BASE_NODE, noCache: true };
    const ra = await buildImage(await readManifestForTest(a), {
      ...opts,
      tag: uniqueTag("wa"),
      openapiSchemaFile: join(a, "schema.json"),
    });
    const rb = await buildImage(await readManifestForTest(b), {
      ...opts,
      tag: uniqueTag("wb"),
      openapiSchemaFile: join(b, "schema.json"),
    });
    // layers: base..., node, tini RUN, weights x2, runtime, worker compile RUN, WORKDIR, code (RUN
    // layers, like the tini one, are not compared: a clean build writes them anew)
    const weightsOf = (layers: string[]): string[] => layers.slice(-6, -4);
    expect(weightsOf(ra.layers)).toHaveLength(2);
    expect(weightsOf(ra.layers)).toEqual(weightsOf(rb.layers));
    expect(ra.layers.at(-4)).toBe(rb.layers.at(-4)); // runtime bundle layer too

    await appendFile(join(a, "predict.py"), "# one-line change\n");
    const phases: string[] = [];
    const rc = await buildImage(await readManifestForTest(a), {
      baseImage: BASE_PYTHON,
      nodeImage: BASE_NODE,
      tag: ra.image,
      openapiSchemaFile: join(a, "schema.json"),
      onEvent: (e) => (e.kind === "phase" ? phases.push(e.name) : undefined),
    });
    // The dependencies+weights image is reused (no weights sent); only the code layer is new.
    expect(phases.some((p) => p.startsWith("dependencies and weights unchanged: reusing kiln-deps:"))).toBe(
      true,
    );
    expect(rc.contextBytes).toBeLessThan(100_000);
    expect(rc.layers.slice(0, -1)).toEqual(ra.layers.slice(0, -1));
    expect(rc.layers.at(-1)).not.toBe(ra.layers.at(-1));
  });
});
