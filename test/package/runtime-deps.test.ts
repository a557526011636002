/**
 * Every package a module reachable from bin/kiln.js loads is a runtime dependency (installed with
 * `npm install --omit=dev`), or an optional peer dependency that the code looks up in the user's project
 * and does without (typescript, for the type check).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadedSpecifiers, packageOf, walkImports } from "./import-graph.js";

const REPO = join(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};
const optionalPeers = Object.keys(pkg.peerDependencies ?? {}).filter(
  (name) => pkg.peerDependenciesMeta?.[name]?.optional,
);
const allowed = new Set([...Object.keys(pkg.dependencies), ...optionalPeers]);

function notRuntime(packages: Map<string, string[]>): string[] {
  return [...packages]
    .filter(([name]) => !allowed.has(name))
    .map(([name, files]) => `${name} (loaded by ${[...new Set(files)].join(", ")})`);
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("run-time dependencies", () => {
  it("every package reachable from bin/kiln.js is in dependencies (or an optional peer)", () => {
    const graph = walkImports(REPO, "bin/kiln.js");
    // The walk really covers the CLI: every command and the TypeScript compile and check.
    expect(graph.files).toEqual(
      expect.arrayContaining([
        "src/cli/main.ts",
        "src/cli/commands/build.ts",
        "src/build/image.ts",
        "src/build/ts-predictor.ts",
        "src/build/ts-typecheck.ts",
      ]),
    );
    expect([...graph.packages.keys()]).toEqual(
      expect.arrayContaining(["commander", "esbuild", "typescript"]),
    );
    expect(notRuntime(graph.packages)).toEqual([]);
  });

  it("the optional peers are looked up, never imported statically", () => {
    const graph = walkImports(REPO, "bin/kiln.js");
    for (const peer of optionalPeers) {
      for (const file of graph.packages.get(peer) ?? []) {
        expect(readFileSync(join(REPO, file), "utf8")).not.toMatch(
          new RegExp(`^import (?!type )[^;]*from "${peer}"`, "m"),
        );
      }
    }
  });

  it("catches a devDependency imported by a module the CLI reaches", () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-deps-"));
    dirs.push(root);
    mkdirSync(join(root, "bin"));
    mkdirSync(join(root, "src/cli"), { recursive: true });
    writeFileSync(join(root, "bin/kiln.js"), 'import("../dist/cli/main.js");\n');
    writeFileSync(
      join(root, "src/cli/main.ts"),
      'import type { X } from "vitest";\nexport { a } from "./a.js";\nimport { z } from "zod";\n',
    );
    writeFileSync(join(root, "src/cli/a.ts"), 'export const a = await import("prettier");\n');
    const graph = walkImports(root, "bin/kiln.js");
    expect(graph.files).toEqual(["bin/kiln.js", "src/cli/a.ts", "src/cli/main.ts"]);
    expect(notRuntime(graph.packages)).toEqual(["prettier (loaded by src/cli/a.ts)"]);
  });

  it("reads every way a module is loaded", () => {
    const text = [
      'import a from "a";',
      'import type { B } from "b";',
      'import { type C } from "c";',
      'export * from "d/sub";',
      'export type { E } from "e";',
      'const f = await import("@scope/f/x");',
      'const g = require("g");',
      'const h = createRequire(import.meta.url)("h");',
      'const i = createRequire(import.meta.url).resolve("i/package.json");',
      'import { readFile } from "node:fs";',
    ].join("\n");
    expect(loadedSpecifiers("x.ts", text).map(packageOf)).toEqual([
      "a",
      "c",
      "d",
      "@scope/f",
      "g",
      "h",
      null,
    ]);
  });
});
