/**
 * The corpus's manifest cases: each case's cog.yaml is validated as `kiln build` validates it, and the
 * errors and warnings (as "path: message (hint)") must contain the expected substrings, in order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseManifest } from "../../src/manifest/parse.js";
import { loadCases } from "./corpus.js";

const cases = loadCases().filter((c) => c.expect.manifest);

function render(p: { path: string; message: string; hint?: string | undefined }): string {
  return `${p.path ? `${p.path}: ` : ""}${p.message}${p.hint ? ` (${p.hint})` : ""}`;
}

describe("Cog compatibility corpus (cog.yaml)", () => {
  test("there are manifest cases", () => expect(cases.length).toBeGreaterThan(3));

  for (const c of cases) {
    test(`${c.name}: ${c.expect.point}`, () => {
      const want = c.expect.manifest!;
      const text = readFileSync(join(c.dir, "cog.yaml"), "utf8");
      const { problems } = parseManifest(text, { file: "cog.yaml", root: c.dir });
      const errors = problems.filter((p) => p.severity === "error").map(render);
      const warnings = problems.filter((p) => p.severity === "warning").map(render);
      if (want.noErrors) expect(errors).toEqual([]);
      if (want.errors) {
        expect(errors).toHaveLength(want.errors.length);
        want.errors.forEach((e, i) => expect(errors[i]).toContain(e));
      }
      if (want.warnings) {
        expect(warnings, warnings.join("\n")).toHaveLength(want.warnings.length);
        want.warnings.forEach((w, i) => expect(warnings[i]).toContain(w));
      }
    });
  }
});
