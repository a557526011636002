/** The TypeScript starter that kiln init writes must typecheck against kiln's own SDK. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { runCli } from "./run.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sdk = join(root, "src/sdk/index.ts");

describe("kiln init TypeScript template", () => {
  // A full TypeScript program check takes tens of seconds on a loaded 2-core machine.
  it("typechecks against src/sdk", { timeout: 180_000, tags: ["slow"] }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-init-ts-"));
    try {
      expect((await runCli(["init"], dir)).code).toBe(0);
      const program = ts.createProgram([join(dir, "predict.ts")], {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
        baseUrl: dir,
        paths: { kiln: [sdk], zod: [join(root, "node_modules/zod")] },
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
