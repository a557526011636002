/**
 * Golden files: test/fixtures/build/<case>/cog.yaml -> plan -> expected.Dockerfile (and the context
 * listing in expected.context.txt). Update on purpose only: UPDATE_GOLDEN=1 npx vitest run test/build.
 */
import { existsSync, readdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listContext } from "../../src/build/context.js";
import { prepareBuild, type PrepareOptions } from "../../src/build/prepare.js";
import { loadFixtureManifest } from "./fixture-manifest.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/build");
const BUNDLE = join(FIXTURES, "_runtime-bundle");
const CASES = readdirSync(FIXTURES).filter(
  (d) => !d.startsWith("_") && existsSync(join(FIXTURES, d, "cog.yaml")),
);
const UPDATE = process.env.UPDATE_GOLDEN === "1";

async function golden(file: string, actual: string): Promise<void> {
  if (UPDATE) await writeFile(file, actual);
  expect(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(actual).toBe(await readFile(file, "utf8"));
}

describe("golden Dockerfiles", () => {
  it("has at least 12 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of CASES) {
    it(name, async () => {
      const dir = join(FIXTURES, name);
      const manifest = await loadFixtureManifest(dir);
      const optionsFile = join(dir, "options.json");
      const raw = existsSync(optionsFile)
        ? (JSON.parse(await readFile(optionsFile, "utf8")) as PrepareOptions)
        : {};
      const options: PrepareOptions = {
        ...raw,
        caCertFile: raw.caCertFile ? join(dir, raw.caCertFile) : undefined,
        extraIgnore: ["expected.*", "options.json"],
      };
      const { plan, dockerfile } = await prepareBuild(manifest, options);
      await golden(join(dir, "expected.Dockerfile"), dockerfile);
      const entries = await listContext({
        root: dir,
        plan,
        dockerfile,
        runtimeBundle: BUNDLE,
        caCertFile: options.caCertFile,
      });
      const listing = entries.map(
        (e) =>
          `${e.type === "directory" ? "d" : e.type === "symlink" ? "l" : "f"} ${e.mode.toString(8)} ${e.name}${e.type === "file" ? ` ${e.size}` : ""}`,
      );
      const notes = plan.notes.map((n) => `note: ${n}`);
      await golden(join(dir, "expected.context.txt"), `${[...listing, ...notes].join("\n")}\n`);
    });
  }
});
