/** The import-direction rules of docs/architecture.md, as `npm run lint` applies them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "kiln/layers").map((m) => m.message);
}

describe("kiln/layers", () => {
  it.each([
    [
      "src/runtime/x.ts",
      'import { loadManifest } from "../manifest/load.js";\nvoid loadManifest;\n',
      /src\/runtime may not import src\/manifest/,
    ],
    [
      "src/schema/x.ts",
      'import { UsageError } from "../errors.js";\nvoid UsageError;\n',
      /src\/schema may not import src\/errors\.ts/,
    ],
    [
      "src/session/x.ts",
      'import { Output } from "../cli/output.js";\nvoid Output;\n',
      /nothing outside src\/cli imports src\/cli/,
    ],
    [
      "src/build/x.ts",
      'import { EngineApi } from "../docker/api.js";\nvoid EngineApi;\n',
      /only src\/docker talks to the engine/,
    ],
    [
      "src/runtime/x.ts",
      'import { execa } from "execa";\nvoid execa;\n',
      /bundled into images: it uses Node built-ins only/,
    ],
    [
      "src/manifest/x.ts",
      'import { Command } from "commander";\nvoid Command;\n',
      /commander is used from src\/cli only/,
    ],
    [
      "src/build/x.ts",
      'const m = await import("../cli/main.js");\nvoid m;\n',
      /nothing outside src\/cli imports src\/cli/,
    ],
    [
      "src/cli/commands/x.ts",
      'import { registerServe } from "./serve.js";\nvoid registerServe;\n',
      /a command does not import another command/,
    ],
  ])("%s: %s", async (file, code, message) => {
    expect(await problems(file, code)).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    [
      "src/runtime/x.ts",
      'import { validateInput } from "../schema/validate.js";\nimport { readFile } from "node:fs/promises";\nvoid validateInput;\nvoid readFile;\n',
    ],
    ["src/cli/x.ts", 'import { runPredict } from "../session/predict.js";\nvoid runPredict;\n'],
    ["src/cli/commands/x.ts", 'import { addServeFlags } from "../serve-options.js";\nvoid addServeFlags;\n'],
    ["src/docker/x.ts", 'import { EngineApi } from "./api.js";\nvoid EngineApi;\n'],
    ["src/fleet/x.ts", 'import { startServer } from "../runtime/server.js";\nvoid startServer;\n'],
  ])("allowed: %s", async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});

describe("kiln/unused-exports", () => {
  async function unused(file: string, code: string): Promise<{ message: string; severity: number }[]> {
    const [result] = await eslint.lintText(code, { filePath: join(root, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === "kiln/unused-exports");
  }

  it("fails (severity 2, in every folder) on a value nobody imports; types and used exports pass", async () => {
    for (const folder of ["build", "runtime", "fleet", "deploy"]) {
      const found = await unused(
        `src/${folder}/zz-lint-probe.ts`,
        "export const nobodyImportsThis = 1;\nexport interface Shape { a: number }\n",
      );
      expect(found).toEqual([
        expect.objectContaining({
          severity: 2,
          message: expect.stringMatching(/^nobodyImportsThis is exported/),
        }),
      ]);
    }
    // src/errors.ts's UsageError is imported all over the tree.
    expect(await unused("src/errors.ts", "export class UsageError {}\n")).toEqual([]);
  });

  it("counts a module loaded whole as used: `c ? await import(...) : null` (src/runtime/main.ts)", async () => {
    const file = "src/fleet/replica-env.ts";
    expect(await unused(file, readFileSync(join(root, file), "utf8"))).toEqual([]);
  });
});
