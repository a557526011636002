/** Shared by the client generator's tests: fixture documents and a scratch project to type-check in. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { clientModel, type ClientModel, type ModelFacts } from "../../src/client-gen/model.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

export async function fixtureDoc(name = "everything"): Promise<Record<string, unknown>> {
  const text = await readFile(join(ROOT, "test/client-gen/fixtures", `${name}.openapi.json`), "utf8");
  return JSON.parse(text) as Record<string, unknown>;
}

export const FACTS: ModelFacts = {
  model: "acme/everything",
  version: "sha256:" + "ab".repeat(32),
  source: "acme/everything:latest",
  baseUrl: null,
};

export async function fixtureModel(
  name = "everything",
  facts: Partial<ModelFacts> = {},
): Promise<ClientModel> {
  return clientModel(await fixtureDoc(name), { ...FACTS, ...facts });
}

/** A throwaway directory that resolves `replicate` (and typescript) from this repository. */
export async function scratchProject(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `kiln-client-${prefix}-`));
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The strictest settings a user might have; the generated module must pass all of them. */
export const STRICT_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023"],
    types: ["node"],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    outDir: "out",
  },
};

/** Runs tsc in `dir`; resolves with its exit code and output (diagnostics). */
export async function tsc(dir: string, args: string[] = []): Promise<{ code: number; output: string }> {
  try {
    const r = await run(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir, ...args],
      {
        cwd: dir,
      },
    );
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** Writes the generated TS as an importable ES module (esbuild strips the types) and imports it. */
export async function importGeneratedTs(
  dir: string,
  code: string,
  name = "client",
): Promise<Record<string, unknown>> {
  const { transform } = await import("esbuild");
  const js = await transform(code, { loader: "ts", format: "esm", target: "node20" });
  const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, js.code);
  return (await import(file)) as Record<string, unknown>;
}

/** Runs python3 with `script` in `dir` (where the generated module was written); stdout as JSON. */
export async function runPython(
  dir: string,
  script: string,
  env: Record<string, string> = {},
): Promise<unknown> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.py`);
  await writeFile(file, script);
  try {
    const r = await run("python3", [file], {
      cwd: dir,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    });
    return JSON.parse(r.stdout) as unknown;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`python failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}
