/**
 * `kiln build --weights PATH`: the trained weights get a layer of their own (fixed metadata, so equal
 * bytes give an equal layer), COG_WEIGHTS names them, and a weights file inside the project is not
 * copied a second time with the code.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIXED_MTIME, listContext } from "../../src/build/context.js";
import { renderBuildStages } from "../../src/build/dockerfile.js";
import { fingerprintContext } from "../../src/build/fingerprint.js";
import { prepareBuild, readTrainedWeights } from "../../src/build/prepare.js";
import { UsageError } from "../../src/errors.js";
import { loadFixtureManifest } from "./fixture-manifest.js";

const BUNDLE = join(import.meta.dirname, "../fixtures/build/_runtime-bundle");
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-trained-"));
  await writeFile(
    join(dir, "cog.yaml"),
    'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\ntrain: "train.py:train"\nenvironment:\n  - COG_WEIGHTS=/old\n',
  );
  await writeFile(join(dir, "predict.py"), "class Predictor:\n    pass\n");
  await writeFile(join(dir, "train.py"), "def train():\n    pass\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function prepared(weights: string) {
  const manifest = await loadFixtureManifest(dir);
  const build = await prepareBuild(manifest, { trainedWeights: await readTrainedWeights(weights) });
  const stages = renderBuildStages(build.plan, "kiln-deps:x");
  const deps = await listContext({
    root: dir,
    plan: build.plan,
    dockerfile: stages.deps,
    runtimeBundle: BUNDLE,
    part: "deps",
  });
  return { build, stages, deps };
}

describe("kiln build --weights", () => {
  it("puts a weights file at /kiln/weights/<name>, in its own layer, named by COG_WEIGHTS", async () => {
    await writeFile(join(dir, "weights"), "trained bytes");
    const { build, stages, deps } = await prepared(join(dir, "weights"));
    expect(build.plan.runtimeEnv.COG_WEIGHTS).toBe("/kiln/weights/weights");
    expect(build.plan.notes).toContain("--weights replaces COG_WEIGHTS=/old from cog.yaml");
    // The deps stage (cache-stable, fingerprinted) holds it; the code stage only names it.
    expect(stages.deps).toContain("COPY kiln/trained/ /");
    expect(stages.deps).toContain("# trained weights (kiln build --weights): /kiln/weights/weights (13 B)");
    expect(stages.code).toContain(`COG_WEIGHTS="/kiln/weights/weights"`);
    const entry = deps.find((e) => e.name === "kiln/trained/kiln/weights/weights");
    expect(entry).toMatchObject({ type: "file", size: 13, mode: 0o644, mtime: FIXED_MTIME });
    // ./weights (where kiln train writes) is not also copied into /src with the code.
    expect(build.plan.code.map((f) => f.path)).not.toContain("weights");
    expect(build.plan.code.map((f) => f.path)).toContain("predict.py");
  });

  it("takes a directory, file by file in path order", async () => {
    const out = await mkdtemp(join(tmpdir(), "kiln-trained-dir-"));
    try {
      await mkdir(join(out, "lora/sub"), { recursive: true });
      await writeFile(join(out, "lora/b.bin"), "bb");
      await writeFile(join(out, "lora/sub/a.bin"), "a");
      await writeFile(join(out, "lora/a.json"), "{}");
      const t = await readTrainedWeights(join(out, "lora"));
      expect(t).toEqual({
        source: join(out, "lora"),
        target: "/kiln/weights/lora",
        files: [
          { path: "a.json", size: 2 },
          { path: "b.bin", size: 2 },
          { path: "sub/a.bin", size: 1 },
        ],
        bytes: 5,
      });
      const { deps } = await prepared(join(out, "lora"));
      const names = deps.map((e) => e.name).filter((n) => n.startsWith("kiln/trained"));
      expect(names).toEqual([
        "kiln/trained",
        "kiln/trained/kiln",
        "kiln/trained/kiln/weights",
        "kiln/trained/kiln/weights/lora",
        "kiln/trained/kiln/weights/lora/a.json",
        "kiln/trained/kiln/weights/lora/b.bin",
        "kiln/trained/kiln/weights/lora/sub",
        "kiln/trained/kiln/weights/lora/sub/a.bin",
      ]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("fingerprints the dependencies image by the weights' bytes: same bytes same, other bytes other", async () => {
    const fp = async (content: string): Promise<string> => {
      await writeFile(join(dir, "weights"), content);
      return fingerprintContext((await prepared(join(dir, "weights"))).deps, {});
    };
    const a = await fp("model A");
    expect(await fp("model A")).toBe(a);
    expect(await fp("model B")).not.toBe(a);
  });

  it.each([
    ["a missing path", "nope", /--weights .*nope does not exist/],
    ["an empty directory", "empty", /--weights .*empty is an empty directory/],
  ])("refuses %s with a usage error and a hint", async (_what, name, message) => {
    await mkdir(join(dir, "empty"));
    const err = await readTrainedWeights(join(dir, name)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(message);
    expect((err as UsageError).hint).toMatch(/kiln train/);
  });
});
