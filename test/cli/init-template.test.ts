/**
 * The TypeScript starter that kiln init writes type-checks with its own tsconfig.json against kiln's SDK,
 * exactly as `kiln build` checks it (the project's node_modules is the repository's here).
 */
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { typecheckTsPredictor } from "../../src/build/ts-typecheck.js";
import { runCli } from "./run.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("kiln init TypeScript template", () => {
  // A full TypeScript program check takes tens of seconds on a loaded 2-core machine.
  it("typechecks with its own tsconfig.json", { timeout: 180_000, tags: ["slow"] }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-init-ts-"));
    try {
      expect((await runCli(["init"], dir)).code).toBe(0);
      symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
      const result = await typecheckTsPredictor(
        dir,
        { raw: "predict.ts:predictor", file: "predict.ts", name: "predictor", language: "typescript" },
        { cache: false },
      );
      expect(result).toEqual({ checked: true, problems: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
