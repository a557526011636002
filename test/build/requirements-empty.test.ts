import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareBuild } from "../../src/build/prepare.js";
import { loadFixtureManifest } from "./fixture-manifest.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-reqs-"));
  await writeFile(
    join(dir, "cog.yaml"),
    'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\npredict: "predict.py:Predictor"\n',
  );
  await writeFile(join(dir, "predict.py"), "class Predictor:\n    pass\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("python_requirements", () => {
  it("skips pip when the file holds only comments and blank lines (kiln init's starter)", async () => {
    await writeFile(join(dir, "requirements.txt"), "# pinned requirements\n\n   # torch==2.3.1\n");
    const prepared = await prepareBuild(await loadFixtureManifest(dir));
    expect(prepared.plan.requirements).toBeNull();
    expect(prepared.plan.notes).toContain("requirements.txt lists no packages: skipping pip install");
  });

  it("installs when at least one package is listed", async () => {
    await writeFile(join(dir, "requirements.txt"), "# comment\nnumpy==2.1.0\n");
    const prepared = await prepareBuild(await loadFixtureManifest(dir));
    expect(prepared.plan.requirements).toBe("requirements.txt");
  });
});
