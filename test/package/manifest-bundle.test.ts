/**
 * scripts/bundle-manifest.mjs folds the cog.yaml checker (parse.js, the other manifest modules, yaml and
 * zod) into dist/manifest/parse.js, and leaves positions.js (whose map from each manifest to its source
 * later problems are positioned by) and everything outside dist/manifest modules of their own.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import type * as Errors from "../../src/errors.js";
import type * as Load from "../../src/manifest/load.js";
import type * as Positions from "../../src/manifest/positions.js";

const REPO = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** src/manifest and src/errors.ts as tsc lays them out in dist/, inside the repository (for node_modules). */
async function manifestDist(): Promise<string> {
  mkdirSync(join(REPO, ".kiln-cache"), { recursive: true });
  const dist = join(mkdtempSync(join(REPO, ".kiln-cache", "manifest-bundle-")), "dist");
  dirs.push(dirname(dist));
  const sources = readdirSync(join(REPO, "src/manifest"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(REPO, "src/manifest", f));
  await build({
    entryPoints: [...sources, join(REPO, "src/errors.ts")],
    outdir: dist,
    outbase: join(REPO, "src"),
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
  });
  return dist;
}

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(REPO, ".kiln-cache", "manifest-bundle-project-"));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

describe("scripts/bundle-manifest.mjs", () => {
  it("bundles the checker with yaml and zod, and shares positions.js and errors.js with the CLI", async () => {
    const dist = await manifestDist();
    await promisify(execFile)(process.execPath, [join(REPO, "scripts/bundle-manifest.mjs"), dist]);
    const bundle = readFileSync(join(dist, "manifest/parse.js"), "utf8");
    expect(bundle).not.toMatch(/from ["'](yaml|zod)["']/);
    expect(bundle).not.toMatch(/from ["']\.\/(rules|schema|yaml-source)\.js["']/);
    expect(bundle).toMatch(/from ["']\.\/positions\.js["']/);
    expect(bundle).toContain("checkRules");

    const url = (rel: string): string => pathToFileURL(join(dist, rel)).href;
    const { loadManifest } = (await import(url("manifest/load.js"))) as typeof Load;
    const { problemAt } = (await import(url("manifest/positions.js"))) as typeof Positions;
    const { ManifestError } = (await import(url("errors.js"))) as typeof Errors;

    const good = project({
      "cog.yaml": 'build:\n  python_version: "3.11"\n  gpu: false\npredict: "predict.py:Predictor"\n',
      "predict.py": "class Predictor:\n    pass\n",
    });
    const { manifest } = await loadManifest({ cwd: good });
    expect(manifest.predict?.name).toBe("Predictor");
    // The bundled parser remembered the source in the one positions.js the CLI asks.
    expect(problemAt(manifest, ["build", "gpu"], "x")).toMatchObject({ line: 3, column: 8 });

    const bad = project({ "cog.yaml": "build:\n  gpu: maybe\n" });
    const err = await loadManifest({ cwd: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError); // the CLI's class, not a copy
    expect((err as InstanceType<typeof ManifestError>).problems[0]).toMatchObject({
      line: 2,
      path: "build.gpu",
    });
  });
});
