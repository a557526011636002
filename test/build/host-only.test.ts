/**
 * node_modules that only the host needs stays out of the build context: all of it in a TS project with a
 * package.json (the image runs `npm ci`, or needs no packages), else kiln's own package (`npm link` makes
 * it a symlink outside the project) and .bin links.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareBuild } from "../../src/build/prepare.js";
import { hostOnlyPaths } from "../../src/build/scan.js";
import { loadFixtureManifest } from "./fixture-manifest.js";

let dir: string;
let linked: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-host-only-"));
  linked = await mkdtemp(join(tmpdir(), "kiln-linked-"));
  await mkdir(join(linked, "bin"));
  await writeFile(join(linked, "bin/kiln.js"), "");
  await writeFile(join(dir, "predict.ts"), "export const predictor = {};\n");
  // What `npm link kiln-ml` leaves: links out of the project.
  await mkdir(join(dir, "node_modules/.bin"), { recursive: true });
  await symlink(linked, join(dir, "node_modules/kiln-ml"));
  await symlink("../kiln-ml/bin/kiln.js", join(dir, "node_modules/.bin/kiln"));
  await mkdir(join(dir, "node_modules/vendored"));
  await writeFile(join(dir, "node_modules/vendored/index.js"), "export {};\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(linked, { recursive: true, force: true });
});

async function contextPaths(predict: string): Promise<string[]> {
  await writeFile(
    join(dir, "cog.yaml"),
    `build:\n  node_version: 20\n  python_version: "3.11"\npredict: "${predict}"\n`,
  );
  const { files } = await prepareBuild(await loadFixtureManifest(dir));
  return files.map((f) => f.path);
}

describe("host-only node_modules", () => {
  it("builds an `npm link`ed project (no lock file, devDependencies only): node_modules stays out", async () => {
    await writeFile(join(dir, "package.json"), '{ "devDependencies": { "kiln-ml": "0.1.0" } }\n');
    expect(await hostOnlyPaths(dir, "node")).toEqual(["node_modules"]);
    const paths = await contextPaths("predict.ts:predictor");
    expect(paths.filter((p) => p.startsWith("node_modules"))).toEqual([]);
    expect(paths).toContain("package.json");
  });

  it("leaves all of node_modules to npm ci when the project has a lock file", async () => {
    await writeFile(join(dir, "package.json"), '{ "devDependencies": { "kiln-ml": "0.1.0" } }\n');
    await writeFile(join(dir, "package-lock.json"), '{ "lockfileVersion": 3, "packages": {} }\n');
    const paths = await contextPaths("predict.ts:predictor");
    expect(paths.filter((p) => p.startsWith("node_modules"))).toEqual([]);
    expect(paths).toContain("package-lock.json");
  });

  it("sends a vendored node_modules of a project without package.json, minus kiln's own package and .bin", async () => {
    const paths = await contextPaths("predict.ts:predictor");
    expect(paths).toContain("node_modules/vendored/index.js");
    expect(paths.some((p) => p.startsWith("node_modules/kiln-ml") || p.startsWith("node_modules/.bin"))).toBe(
      false,
    );
  });

  it("keeps kiln's own package out of Python images too", async () => {
    await writeFile(join(dir, "predict.py"), "class Predictor: pass\n");
    await writeFile(join(dir, "package.json"), "{}\n");
    await writeFile(join(dir, "package-lock.json"), "{}\n");
    const paths = await contextPaths("predict.py:Predictor");
    expect(paths).toContain("node_modules/vendored/index.js");
    expect(paths.some((p) => p.startsWith("node_modules/kiln-ml") || p.startsWith("node_modules/.bin"))).toBe(
      false,
    );
  });
});
