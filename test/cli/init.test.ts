/** kiln init: a working starter project in either language, and it never overwrites anything. */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYamlText } from "yaml";
import { EXIT_CODES } from "../../src/errors.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { KILN_VERSION } from "../../src/version.js";
import { runCli } from "./run.js";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "kiln-init-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  return (
    readdirSync(dir, { recursive: true, withFileTypes: true }) as {
      isFile(): boolean;
      name: string;
      parentPath: string;
    }[]
  )
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function manifestIn(dir: string) {
  return parseManifest(readFileSync(join(dir, "cog.yaml"), "utf8"), { file: "cog.yaml", root: dir });
}

describe("kiln init", () => {
  it("writes a TypeScript project by default, into the current directory", async () => {
    const { code, stdout, stderr } = await runCli(["init"], tmp);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(listFiles(tmp)).toEqual([
      ".dockerignore",
      ".github/workflows/kiln.yml",
      ".gitignore",
      "cog.yaml",
      "package.json",
      "predict.ts",
      "tsconfig.json",
    ]);
    expect(stdout).toBe(
      [
        "created cog.yaml",
        "created predict.ts",
        "created package.json",
        "created tsconfig.json",
        "created .dockerignore",
        "created .github/workflows/kiln.yml",
        "created .gitignore",
        "",
        "Next steps:",
        "  npm install",
        "  npm run typecheck",
        '  kiln predict -i prompt="hello"',
        "",
      ].join("\n"),
    );

    // The manifest it writes is valid as-is and points at the predictor it wrote.
    const { manifest, problems } = manifestIn(tmp);
    expect(problems).toEqual([]);
    expect(manifest?.predict).toEqual({
      raw: "predict.ts:predictor",
      file: "predict.ts",
      name: "predictor",
      language: "typescript",
    });
    expect(manifest?.build.nodeVersion).toBe(20);

    const predictTs = readFileSync(join(tmp, "predict.ts"), "utf8");
    expect(predictTs).toContain('import { z, definePredictor } from "kiln-ml";');
    expect(predictTs).toMatch(/\.describe\(/);
    expect(predictTs).toMatch(/\.default\(/);
    expect(predictTs).toMatch(/\.min\(1\)\.max\(10\)/);
    expect(predictTs).toMatch(/async predict\(\{ prompt, repeat, shout \}, ctx\)/);

    const pkg = JSON.parse(readFileSync(join(tmp, "package.json"), "utf8")) as {
      name: string;
      type: string;
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.name).toMatch(/^kiln-init-/);
    expect(pkg.type).toBe("module");
    // kiln by its own package name (the npm name "kiln" is someone else's), pinned to this version.
    expect(pkg.devDependencies).toEqual({
      "kiln-ml": KILN_VERSION,
      typescript: expect.stringMatching(/^\^5\./),
      "@types/node": expect.stringMatching(/^\^20\./),
    });
    expect(pkg.scripts.typecheck).toBe("tsc --noEmit");
    expect(readFileSync(join(tmp, "cog.yaml"), "utf8")).toContain(
      "$schema=node_modules/kiln-ml/schema/cog.schema.json",
    );
    expect(readFileSync(join(tmp, ".gitignore"), "utf8")).toMatch(/^\.kiln\/$/m);
  });

  it("writes a Cog-style Python project with --lang python into a new directory", async () => {
    const { code, stdout } = await runCli(["init", "my model", "--lang", "python"], tmp);
    expect(code).toBe(0);
    const dir = join(tmp, "my model");
    expect(listFiles(dir)).toEqual([
      ".dockerignore",
      ".github/workflows/kiln.yml",
      ".gitignore",
      "cog.yaml",
      "predict.py",
      "requirements.txt",
    ]);
    expect(stdout).toContain("created my model/predict.py\n");
    expect(stdout).toContain('Next steps:\n  cd my model\n  kiln predict -i prompt="hello"\n');

    const { manifest, problems } = manifestIn(dir);
    expect(problems).toEqual([]);
    expect(manifest?.predict).toMatchObject({ file: "predict.py", name: "Predictor", language: "python" });
    expect(manifest?.build.pythonVersion).toBe("3.12");
    expect(manifest?.build.pythonRequirements).toBe("requirements.txt");
    expect(manifest?.image).toBe("kiln-my-model");

    const predictPy = readFileSync(join(dir, "predict.py"), "utf8");
    expect(predictPy).toContain("from cog import BasePredictor, Input, Path");
    expect(predictPy).toContain("class Predictor(BasePredictor):");
  });

  it("writes a Python predictor that Python can compile", async (t) => {
    let python: string;
    try {
      python = execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
    } catch {
      t.skip("python3 is not installed");
      return;
    }
    await runCli(["init", "--lang", "python"], tmp);
    execFileSync(python, [
      "-c",
      "import ast,sys; ast.parse(open(sys.argv[1]).read())",
      join(tmp, "predict.py"),
    ]);
  });

  interface Workflow {
    on: { push: { tags: string[] } };
    jobs: { push: { "runs-on": string; steps: { uses?: string; run?: string; name?: string }[] } };
  }
  function readWorkflow(dir: string): { workflow: Workflow; runs: string[] } {
    const workflow = parseYamlText(readFileSync(join(dir, ".github/workflows/kiln.yml"), "utf8")) as Workflow;
    const steps = workflow.jobs.push.steps;
    // Every step either uses an action or runs a shell script that parses.
    for (const step of steps) {
      expect(Boolean(step.uses) !== Boolean(step.run), JSON.stringify(step)).toBe(true);
      if (step.run) execFileSync("bash", ["-n", "-c", step.run]);
    }
    return { workflow, runs: steps.flatMap((s) => (s.run ? [s.run] : [])) };
  }

  it("writes a TS CI workflow that installs with or without a lock file and runs the project's own kiln", async () => {
    await runCli(["init"], tmp);
    const { workflow, runs } = readWorkflow(tmp);
    expect(workflow.on.push.tags).toEqual(["v*"]);
    expect(workflow.jobs.push["runs-on"]).toBe("ubuntu-latest");
    expect(runs[0]).toBe(
      "if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi",
    );
    expect(runs).toContain("npm run typecheck");
    expect(runs).toContain('./node_modules/.bin/kiln push "${{ vars.IMAGE }}:${{ github.ref_name }}"');
    // Nothing is fetched by the bare name "kiln" (someone else's package).
    expect(runs.join("\n")).not.toMatch(/npx|kiln@/);
    expect(readFileSync(join(tmp, ".dockerignore"), "utf8")).toMatch(/^\.git$/m);
  });

  it("writes a Python CI workflow that installs kiln by its real name, pinned to this version", async () => {
    await runCli(["init", "--lang", "python"], tmp);
    const { runs } = readWorkflow(tmp);
    expect(runs[0]).toBe(`npm install --global --no-audit --no-fund kiln-ml@${KILN_VERSION}`);
    expect(runs).toContain('kiln push "${{ vars.IMAGE }}:${{ github.ref_name }}"');
    expect(runs.join("\n")).not.toMatch(/npx/);
  });

  it("keeps an existing .gitignore and says to add .kiln/ to it", async () => {
    writeFileSync(join(tmp, ".gitignore"), "dist/\n");
    const { code, stdout } = await runCli(["init"], tmp);
    expect(code).toBe(0);
    expect(readFileSync(join(tmp, ".gitignore"), "utf8")).toBe("dist/\n");
    expect(stdout).toContain("kept .gitignore: add .kiln/ to it\n");
  });

  it("never overwrites: with any target present it writes nothing and exits 2 listing them", async () => {
    writeFileSync(join(tmp, "cog.yaml"), "predict: mine.py:Mine\n");
    mkdirSync(join(tmp, ".github/workflows"), { recursive: true });
    writeFileSync(join(tmp, ".github/workflows/kiln.yml"), "mine\n");
    const { code, stdout, stderr } = await runCli(["init"], tmp);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "error: kiln init would overwrite cog.yaml, .github/workflows/kiln.yml in .; nothing was written.\n" +
        "hint: kiln init never overwrites files: move them away, or run kiln init in an empty directory (kiln init <dir>)\n",
    );
    expect(listFiles(tmp)).toEqual([".github/workflows/kiln.yml", "cog.yaml"]);
    expect(readFileSync(join(tmp, "cog.yaml"), "utf8")).toBe("predict: mine.py:Mine\n");
  });

  it("running it twice fails the second time and keeps the first project intact", async () => {
    expect((await runCli(["init", "--lang", "python"], tmp)).code).toBe(0);
    const before = readFileSync(join(tmp, "predict.py"), "utf8");
    const second = await runCli(["init", "--lang", "python"], tmp);
    expect(second.code).toBe(EXIT_CODES.usage);
    expect(second.stderr).toContain(
      "would overwrite cog.yaml, predict.py, requirements.txt, .dockerignore, .github/workflows/kiln.yml",
    );
    expect(readFileSync(join(tmp, "predict.py"), "utf8")).toBe(before);
  });

  it("files of the other language do not block init", async () => {
    writeFileSync(join(tmp, "predict.py"), "# mine\n");
    expect((await runCli(["init", "--lang", "ts"], tmp)).code).toBe(0);
    expect(readFileSync(join(tmp, "predict.py"), "utf8")).toBe("# mine\n");
  });

  it("refuses a target that is a file", async () => {
    writeFileSync(join(tmp, "afile"), "x");
    const { code, stderr } = await runCli(["init", "afile"], tmp);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("afile exists and is not a directory");
    expect(existsSync(join(tmp, "cog.yaml"))).toBe(false);
  });
});
