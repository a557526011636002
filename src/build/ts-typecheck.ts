/**
 * Type-checks a TypeScript predictor (esbuild only strips types), so `kiln build` can stop on type
 * errors the way `tsc` would. Uses the project's own TypeScript when it has one, else kiln's; without
 * any TypeScript the check is skipped and says why (the build itself does not need it).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import type * as TS from "typescript";
import type { PredictorRef } from "../manifest/types.js";
import { sdkEntry } from "./ts-predictor.js";

export interface TypeCheckResult {
  /** False when no check ran (see `reason`). */
  checked: boolean;
  reason?: string;
  /** "predict.ts:12:5: Type 'number' is not assignable to type 'string'." for each error in the project. */
  problems: string[];
}

function loadTypeScript(root: string): typeof TS | null {
  for (const from of [join(root, "package.json"), import.meta.url]) {
    try {
      return createRequire(from)("typescript") as typeof TS;
    } catch {
      // not installed there
    }
  }
  return null;
}

/** Types for `import ... from "kiln"`: the SDK source (dev) or its declarations (installed). */
function sdkTypes(): string | null {
  const entry = sdkEntry();
  if (entry.endsWith(".ts")) return entry;
  const dts = entry.replace(/\.js$/, ".d.ts");
  return existsSync(dts) ? dts : null;
}

function compilerOptions(ts: typeof TS, root: string): TS.CompilerOptions {
  const configPath = join(root, "tsconfig.json");
  if (existsSync(configPath)) {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    );
    if (parsed) return parsed.options;
  }
  const nodeTypes = findNodeTypes(root);
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: nodeTypes ? ["node"] : [],
    typeRoots: nodeTypes ? [nodeTypes] : [],
  };
}

/** The @types directory holding @types/node: the project's, else the one next to kiln's SDK. */
function findNodeTypes(root: string): string | null {
  for (const dir of [root, dirname(sdkEntry())]) {
    try {
      const pkg = createRequire(join(dir, "package.json")).resolve("@types/node/package.json");
      return dirname(dirname(pkg));
    } catch {
      // not there
    }
  }
  return null;
}

// Without @types/node, these only say "install type definitions for node": not the user's bug.
const MISSING_NODE_TYPES = new Set([2580, 2591, 2592]);

export async function typecheckTsPredictor(root: string, ref: PredictorRef): Promise<TypeCheckResult> {
  if (ref.language !== "typescript")
    return { checked: false, reason: `${ref.file} is not TypeScript`, problems: [] };
  const ts = loadTypeScript(root);
  if (!ts)
    return {
      checked: false,
      reason: "TypeScript is not installed (npm install -D typescript)",
      problems: [],
    };
  const kilnTypes = sdkTypes();
  if (!kilnTypes)
    return { checked: false, reason: "this kiln installation has no SDK type declarations", problems: [] };
  const base = compilerOptions(ts, root);
  const options: TS.CompilerOptions = {
    ...base,
    noEmit: true,
    // "kiln" resolves to the SDK this kiln compiles against, whatever the project has installed.
    paths: { ...base.paths, kiln: [kilnTypes] },
  };
  const program = ts.createProgram({ rootNames: [resolve(root, ref.file)], options });
  const problems: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.category !== ts.DiagnosticCategory.Error || MISSING_NODE_TYPES.has(d.code)) continue;
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file) {
      problems.push(message);
      continue;
    }
    const rel = relative(root, d.file.fileName);
    if (rel.startsWith("..") || rel.includes("node_modules")) continue; // kiln's or a package's own types
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    problems.push(`${rel}:${line + 1}:${character + 1}: ${message}`);
  }
  return { checked: true, problems };
}
