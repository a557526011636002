/**
 * kiln is the npm package kiln-ml: nothing users copy (templates, docs, examples, README) installs,
 * runs or imports the npm name "kiln", which belongs to an unrelated package.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_NAME } from "../../src/version.js";

const REPO = join(import.meta.dirname, "../..");

// Ways text can make npm fetch or resolve the package named "kiln".
const STRANGER = [
  /\bnpx\s+(?:--yes\s+|-y\s+)?kiln(?:@|\s|$)/, // npx kiln ... (fetches "kiln" when no local bin exists)
  /\bkiln@\d/, // kiln@0.1.0
  /"kiln"\s*:\s*"[~^\d]/, // "kiln": "^0.1.0" in a dependency list
  /\bfrom\s+["']kiln["'];/, // import ... from "kiln";
  /\bnpm\s+(?:i|install|add)(?:\s+-{1,2}[\w-]+)*\s+kiln(?:@|\s|$)/, // npm install -g kiln
];

function filesUnder(dir: string): string[] {
  return (
    readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true }) as unknown as {
      isFile(): boolean;
      name: string;
      parentPath: string;
    }[]
  )
    .filter(
      (e) => e.isFile() && /\.(md|ya?ml|json|ts|js|mjs|py|txt|sh)$|^dockerignore$|^gitignore$/.test(e.name),
    )
    .map((e) => relative(REPO, join(e.parentPath, e.name)));
}

describe("the package name", () => {
  it("is kiln-ml, the npm package this repository publishes", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      name: string;
      bin: Record<string, string>;
    };
    expect(pkg.name).toBe(PACKAGE_NAME);
    expect(pkg.bin).toEqual({ kiln: "bin/kiln.js" });
  });

  it("no template, doc, example or the README names npm's unrelated package kiln", () => {
    const files = ["README.md", ...filesUnder("templates"), ...filesUnder("docs"), ...filesUnder("examples")];
    expect(files.length).toBeGreaterThan(10);
    const hits: string[] = [];
    for (const file of files) {
      readFileSync(join(REPO, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (STRANGER.some((re) => re.test(line))) hits.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits, `use ${PACKAGE_NAME} (or the project's own ./node_modules/.bin/kiln)`).toEqual([]);
  });

  it("the patterns catch what they are for", () => {
    const bad = [
      "npx --yes kiln@0.1.0 push",
      "run: npx kiln push x",
      '"kiln": "^0.1.0"',
      'import { z } from "kiln";',
      "npm install -g kiln",
    ];
    const fine = [
      "npm install -g kiln-ml",
      "kiln push x",
      "./node_modules/.bin/kiln push",
      'from "kiln-ml";',
    ];
    expect(bad.filter((l) => !STRANGER.some((re) => re.test(l)))).toEqual([]);
    expect(fine.filter((l) => STRANGER.some((re) => re.test(l)))).toEqual([]);
  });
});
