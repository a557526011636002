/**
 * scripts/bundle-cli.mjs folds the CLI's own modules into dist/cli/main.js and leaves every other
 * module a file of its own: the bundle and what it loads later share one instance of each (one
 * KilnError class for main.ts's classify()), and modules loaded on demand stay on demand.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A dist/ laid out as tsc writes it, with the modules named after what they stand for. */
function fakeDist(files: Record<string, string>): string {
  // Inside the repository, so "commander" resolves from its node_modules as it does for dist/.
  mkdirSync(join(REPO, ".kiln-cache"), { recursive: true });
  const dist = join(mkdtempSync(join(REPO, ".kiln-cache", "cli-bundle-")), "dist");
  dirs.push(dirname(dist));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dist, name)), { recursive: true });
    writeFileSync(join(dist, name), text);
  }
  return dist;
}

describe("scripts/bundle-cli.mjs", () => {
  it("bundles dist/cli and commander, and shares every other module with what loads later", async () => {
    const dist = fakeDist({
      "errors.js":
        "export class KilnError extends Error {}\nglobalThis.errorsLoaded = (globalThis.errorsLoaded ?? 0) + 1;\n",
      "session/run.js":
        'import { KilnError } from "../errors.js";\nexport function fail() { throw new KilnError("from the session"); }\n',
      "cli/commands/run.js":
        'export async function runCommand() { const { fail } = await import("../../session/run.js"); fail(); }\n',
      "cli/progress.js": "globalThis.progressLoaded = true;\nexport const progress = 1;\n",
      "cli/main.js": [
        'import { Command } from "commander";',
        'import { KilnError } from "../errors.js";',
        'import { runCommand } from "./commands/run.js";',
        "export const program = new Command('kiln');",
        "export async function classify() {",
        "  try { await runCommand(); } catch (err) { return err instanceof KilnError; }",
        "}",
        'export const progress = () => import("./progress.js");',
        "",
      ].join("\n"),
    });
    await promisify(execFile)(process.execPath, [join(REPO, "scripts/bundle-cli.mjs"), dist]);
    const bundle = readFileSync(join(dist, "cli/main.js"), "utf8");
    // The CLI's static modules and commander are inside; the others are imported by relative paths.
    expect(bundle).toContain("runCommand");
    expect(bundle).not.toMatch(/from ["']commander["']/);
    expect(bundle).toMatch(/from ["']\.\.\/errors\.js["']/);
    expect(bundle).toMatch(/import\(["']\.\.\/session\/run\.js["']\)/);
    expect(bundle).toMatch(/import\(["']\.\/progress\.js["']\)/);

    const g = globalThis as { errorsLoaded?: number; progressLoaded?: boolean };
    const m = (await import(pathToFileURL(join(dist, "cli/main.js")).href)) as {
      program: { name(): string };
      classify(): Promise<boolean>;
      progress(): Promise<unknown>;
    };
    expect(m.program.name()).toBe("kiln");
    expect(await m.classify()).toBe(true); // one KilnError class for the bundle and the session module
    expect(g.errorsLoaded).toBe(1);
    expect(g.progressLoaded).toBeUndefined(); // loaded on demand only
    await m.progress();
    expect(g.progressLoaded).toBe(true);
  });
});
