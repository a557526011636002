/**
 * Type-checks TypeScript predictors (esbuild only strips types), so `kiln build` stops on type errors
 * the way `tsc --noEmit` would. The compiler is the project's own `typescript` (its version, next to its
 * tsconfig.json): kiln does not ship one, it is an optional peer dependency. Without it the check is
 * skipped and says why. A passing check is cached in .kiln/typecheck.json under the hashes of every file
 * the compiler read, so an unchanged rebuild does not load TypeScript at all.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import type * as TS from "typescript";
import { BuildError } from "../errors.js";
import type { PredictorRef, ResolvedManifest } from "../manifest/types.js";
import { KILN_VERSION, PACKAGE_NAME } from "../version.js";
import { sdkEntry } from "./ts-predictor.js";

export interface TypeCheckResult {
  /** False when no check ran (see `reason`). */
  checked: boolean;
  /** True when an earlier passing check of the very same inputs was reused. */
  cached?: boolean;
  reason?: string;
  /** "predict.ts:12:5: Type 'number' is not assignable to type 'string'." for each error in the project. */
  problems: string[];
}

export interface TypeCheckOptions {
  /** Reuse and record passing checks in <root>/.kiln/typecheck.json (default true). */
  cache?: boolean;
}

interface Compiler {
  /** typescript/package.json of the project's install. */
  packageJson: string;
  version: string;
}

/** The project's TypeScript, found without loading it (loading costs ~0.3 s; a cache hit never does). */
function findTypeScript(root: string): Compiler | null {
  try {
    const packageJson = createRequire(join(root, "package.json")).resolve("typescript/package.json");
    const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version: string };
    return { packageJson, version };
  } catch {
    return null;
  }
}

/** Types for `import ... from "kiln-ml"`: the SDK source (dev) or its declarations (installed). */
function sdkTypes(): string | null {
  const entry = sdkEntry();
  if (entry.endsWith(".ts")) return entry;
  const dts = entry.replace(/\.js$/, ".d.ts");
  return existsSync(dts) ? dts : null;
}

/** The project's tsconfig.json options (and the configs it extends), else strict defaults. */
function compilerOptions(ts: typeof TS, root: string): { options: TS.CompilerOptions; configs: string[] } {
  const configPath = join(root, "tsconfig.json");
  if (existsSync(configPath)) {
    const extended = new Map<string, TS.ExtendedConfigCacheEntry>();
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
      extended,
    );
    if (parsed) return { options: parsed.options, configs: [configPath, ...extended.keys()] };
  }
  const nodeTypes = findNodeTypes(root);
  return {
    options: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      types: nodeTypes ? ["node"] : [],
      typeRoots: nodeTypes ? [nodeTypes] : [],
    },
    configs: [],
  };
}

/** The @types directory holding the project's @types/node, if it has one. */
function findNodeTypes(root: string): string | null {
  try {
    const pkg = createRequire(join(root, "package.json")).resolve("@types/node/package.json");
    return dirname(dirname(pkg));
  } catch {
    return null;
  }
}

// Without @types/node, these only say "install type definitions for node": not the user's bug.
const MISSING_NODE_TYPES = new Set([2580, 2591, 2592]);

interface CacheEntry {
  key: string;
  /**
   * Every file the passing check read (sources, declarations, tsconfigs) -> its size, mtime and sha256.
   * A file whose size and mtime still match is taken as unchanged (as git's index does); any other is
   * hashed again, so touching a file without changing it still hits.
   */
  inputs: Record<string, [size: number, mtimeMs: number, sha256: string]>;
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

async function fingerprint(path: string): Promise<CacheEntry["inputs"][string] | null> {
  try {
    const [st, data] = await Promise.all([stat(path), readFile(path)]);
    return [st.size, st.mtimeMs, sha256(data)];
  } catch {
    return null;
  }
}

async function unchanged(
  path: string,
  [size, mtimeMs, hash]: CacheEntry["inputs"][string],
): Promise<boolean> {
  const st = await stat(path).catch(() => null);
  if (!st) return false;
  if (st.size === size && st.mtimeMs === mtimeMs) return true;
  return st.size === size && (await readFile(path).then(sha256, () => null)) === hash;
}

async function cacheHit(file: string, key: string): Promise<boolean> {
  const entry = await readFile(file, "utf8").then(
    (t) => JSON.parse(t) as CacheEntry,
    () => null,
  );
  if (!entry || entry.key !== key || typeof entry.inputs !== "object") return false;
  const checks = await Promise.all(Object.entries(entry.inputs).map(([path, fp]) => unchanged(path, fp)));
  return checks.every(Boolean);
}

/** Checks the given predictor/trainer files together, as one program. */
async function typecheckTsPredictors(
  root: string,
  refs: PredictorRef[],
  opts: TypeCheckOptions = {},
): Promise<TypeCheckResult> {
  const tsRefs = refs.filter((r) => r.language === "typescript");
  if (tsRefs.length === 0)
    return {
      checked: false,
      reason: `${refs.map((r) => r.file).join(", ")} is not TypeScript`,
      problems: [],
    };
  const compiler = findTypeScript(root);
  if (!compiler)
    return {
      checked: false,
      reason: "TypeScript is not installed in this project (npm install --save-dev typescript)",
      problems: [],
    };
  const kilnTypes = sdkTypes();
  if (!kilnTypes)
    return { checked: false, reason: "this kiln installation has no SDK type declarations", problems: [] };

  const rootNames = tsRefs.map((r) => resolve(root, r.file));
  const key = sha256(JSON.stringify([KILN_VERSION, compiler.version, kilnTypes, rootNames]));
  const cacheFile = join(root, ".kiln", "typecheck.json");
  const useCache = opts.cache !== false;
  if (useCache && (await cacheHit(cacheFile, key))) return { checked: true, cached: true, problems: [] };

  const ts = createRequire(compiler.packageJson)("typescript") as typeof TS;
  const { options: base, configs } = compilerOptions(ts, root);
  const options: TS.CompilerOptions = {
    ...base,
    noEmit: true,
    // The SDK specifier resolves to the SDK this kiln compiles against, whatever the project installed.
    paths: { ...base.paths, [PACKAGE_NAME]: [kilnTypes] },
  };
  const program = ts.createProgram({ rootNames, options });
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
  if (useCache && problems.length === 0) {
    // TypeScript's own lib files are covered by its version in the key.
    const tsDir = dirname(compiler.packageJson) + sep;
    const packageJson = join(root, "package.json"); // its "type" decides how .ts files are read
    const files = [
      packageJson,
      ...configs,
      ...program.getSourceFiles().map((f) => resolve(f.fileName)),
    ].filter((f) => !f.startsWith(tsDir));
    const inputs: CacheEntry["inputs"] = {};
    const prints = await Promise.all(files.map(fingerprint));
    files.forEach((f, i) => {
      const fp = prints[i];
      if (fp) inputs[f] = fp;
    });
    await mkdir(dirname(cacheFile), { recursive: true });
    await writeFile(cacheFile, JSON.stringify({ key, inputs } satisfies CacheEntry)).catch(() => undefined);
  }
  return { checked: true, problems };
}

/** One predictor file (see typecheckTsPredictors). */
export async function typecheckTsPredictor(
  root: string,
  ref: PredictorRef,
  opts: TypeCheckOptions = {},
): Promise<TypeCheckResult> {
  return typecheckTsPredictors(root, [ref], opts);
}

/**
 * `kiln build`'s check: throws a BuildError naming `predict.ts:LINE:COL` and the compiler's message.
 * `skipped` says why no check ran; `cached` that an earlier pass of the same inputs was reused.
 */
export async function assertPredictorTypes(
  manifest: ResolvedManifest,
): Promise<{ skipped?: string; cached: boolean }> {
  const refs = [manifest.predict, manifest.train].filter(
    (r): r is PredictorRef => r?.language === "typescript",
  );
  if (refs.length === 0) return { cached: false };
  const result = await typecheckTsPredictors(manifest.root, refs);
  if (!result.checked)
    return { skipped: `type check skipped: ${result.reason ?? "unknown reason"}`, cached: false };
  const [first, ...rest] = result.problems;
  if (first === undefined) return { cached: Boolean(result.cached) };
  const count = result.problems.length;
  const oldName = result.problems.some((p) => p.includes("Cannot find module 'kiln'"));
  throw new BuildError(`type error${count > 1 ? `s (${count})` : ""}: ${first}`, {
    details: rest,
    hint: oldName
      ? `kiln's SDK is the npm package ${PACKAGE_NAME}: import { definePredictor, z } from "${PACKAGE_NAME}".`
      : "Fix the error in your predictor (`npx tsc --noEmit` shows the same), or build anyway with --no-typecheck.",
  });
}
