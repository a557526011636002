/** What a user sees when a command meets a bad or missing cog.yaml (any command that reads it). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runCli } from "./run.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-cli-manifest-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("manifest problems through the CLI", () => {
  it("prints every problem with its position and hint, exits 3, no stack trace", async () => {
    writeFileSync(
      join(dir, "cog.yaml"),
      'build:\n  python_version: 3.10\n  gpu: "yes"\npredict: predict.py:Predicter\n',
    );
    writeFileSync(join(dir, "predict.py"), "class Predictor:\n    pass\n");
    const { code, stdout, stderr } = await runCli(["dockerfile"], dir);
    expect(code).toBe(EXIT_CODES.manifest);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      [
        "error: cog.yaml has 3 problems",
        "  cog.yaml:2:19 build.python_version: found 3.10 without quotes, which YAML reads as the number 3.1",
        '    hint: quote it: python_version: "3.10"',
        '  cog.yaml:3:8 build.gpu: expected true or false, found the string "yes"',
        "    hint: write true or false without quotes",
        "  cog.yaml:4:10 predict: predict.py has no class or function named Predicter",
        "    hint: predict.py defines: Predictor",
        "",
      ].join("\n"),
    );
  });

  it("-f names the other file in every problem", async () => {
    writeFileSync(join(dir, "gpu.yaml"), "biuld:\n  gpu: true\n");
    const { code, stderr } = await runCli(["-f", "gpu.yaml", "dockerfile"], dir);
    expect(code).toBe(EXIT_CODES.manifest);
    expect(stderr).toContain(
      '  gpu.yaml:1:1 biuld: unknown key "biuld" at the top level\n    hint: did you mean "build"?\n',
    );
  });

  it("no cog.yaml: exit 3 with a hint to run kiln init", async () => {
    const { code, stderr } = await runCli(["dockerfile"], dir);
    expect(code).toBe(EXIT_CODES.manifest);
    expect(stderr).toContain(`error: No cog.yaml found in ${dir} or any parent directory.\n`);
    expect(stderr).toContain("hint: run `kiln init` to create one, or pass -f FILE to use another file\n");
  });
});
