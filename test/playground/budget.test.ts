/** The built page stays within its size budget (src/playground/budget.json) and loads nothing remote. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const budget = JSON.parse(readFileSync(join(REPO, "src/playground/budget.json"), "utf8")) as {
  files: Record<string, number>;
  totalGzip: number;
};
let out: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "kiln-playground-build-"));
  execFileSync(process.execPath, [join(REPO, "scripts/build-playground.mjs"), out], { stdio: "pipe" });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("playground bundle", () => {
  it("fits the stated budget: 60 KiB JS, 12 KiB CSS, 2 KiB HTML, 24 KiB gzipped in all", () => {
    expect(budget.files).toEqual({ "app.js": 61440, "app.css": 12288, "index.html": 2048 });
    let gz = 0;
    for (const [name, limit] of Object.entries(budget.files)) {
      const size = statSync(join(out, name)).size;
      expect(size, name).toBeGreaterThan(0);
      expect(size, name).toBeLessThanOrEqual(limit);
      gz += gzipSync(readFileSync(join(out, name))).length;
    }
    expect(gz).toBeLessThanOrEqual(budget.totalGzip);
  });

  it("references no script, style or font outside /playground", () => {
    const html = readFileSync(join(out, "index.html"), "utf8");
    const refs = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.every((r) => r!.startsWith("/playground/") || r!.startsWith("data:"))).toBe(true);
    const css = readFileSync(join(out, "app.css"), "utf8");
    expect(css).not.toMatch(/@import|url\(\s*["']?https?:/i);
    const js = readFileSync(join(out, "app.js"), "utf8");
    expect(js).not.toMatch(/import\s*\(\s*["']https?:|from\s*["']https?:/);
  });

  it("the build fails past the budget", () => {
    const tight = join(out, "tight");
    const r = (() => {
      try {
        execFileSync(process.execPath, [join(REPO, "scripts/build-playground.mjs"), tight], {
          stdio: "pipe",
          env: { ...process.env, KILN_PLAYGROUND_BUDGET_SCALE: "0.01" },
        });
        return null;
      } catch (err) {
        return String((err as { stderr: Buffer }).stderr);
      }
    })();
    expect(r).toMatch(/over its \d+ B budget/);
  });
});
