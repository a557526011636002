/**
 * Compiles a TypeScript (or JavaScript) predictor into one ESM file the node worker can import:
 * <root>/.kiln/<name>.mjs plus a source map, so stack traces point at predict.ts lines.
 * `import ... from "kiln-ml"` resolves to this kiln's SDK and "zod" to the SDK's own zod (one instance, so
 * schemas built by the user and read by the SDK agree); every other package stays external and
 * resolves from the project's node_modules at run time. esbuild (a runtime dependency) is loaded only
 * here, on the first compile: Python builds and other commands never pay for it.
 *
 * Compiles are cached by content: beside the output, <name>.mjs.inputs.json lists every file the
 * bundle was made from with its SHA-256 (and kiln's version). When all still match, the bundle is
 * reused without starting esbuild, so `kiln serve --no-docker` on an unchanged project starts at once;
 * a file whose size and mtime are as recorded is not read again (only changed files are hashed).
 * esbuild's service process is stopped after each compile: a long-running `kiln serve` must not keep
 * it resident (it holds ~40 MB).
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Esbuild from "esbuild";
import type { Message, Plugin } from "esbuild";
import { BuildError } from "../errors.js";
import type { PredictorRef } from "../manifest/types.js";
import { KILN_VERSION, PACKAGE_NAME } from "../version.js";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The SDK entry: dist/sdk/index.js when running compiled, src/sdk/index.ts under vitest/tsx. */
export function sdkEntry(): string {
  for (const candidate of ["../sdk/index.js", "../sdk/index.ts"]) {
    const path = resolve(HERE, candidate);
    if (existsSync(path)) return path;
  }
  throw new BuildError("kiln's TypeScript SDK is missing from this installation", {
    hint: "Reinstall kiln (the sdk/ directory next to build/ is gone).",
  });
}

async function loadEsbuild(): Promise<typeof Esbuild> {
  try {
    return await import("esbuild");
  } catch (err) {
    throw new BuildError(
      `esbuild, which compiles TypeScript predictors, cannot be loaded: ${(err as Error).message}`,
      {
        hint: `Reinstall ${PACKAGE_NAME} without --omit=optional or --no-optional (esbuild's binary for this platform comes from an optional dependency).`,
        cause: err,
      },
    );
  }
}

function kilnResolver(entry: string): Plugin {
  return {
    name: "kiln-resolver",
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${PACKAGE_NAME}$`) }, () => ({ path: entry }));
      // The npm package "kiln" is someone else's: say what to import instead of bundling a stranger.
      b.onResolve({ filter: /^kiln$/ }, () => ({
        errors: [
          { text: `import "${PACKAGE_NAME}", not "kiln" (kiln's SDK is the npm package ${PACKAGE_NAME})` },
        ],
      }));
      // One zod for the user and the SDK: resolved from the SDK's location, never the project's.
      b.onResolve({ filter: /^zod(\/.*)?$/ }, async (args) => {
        if (args.pluginData === "kiln-zod") return undefined;
        return b.resolve(args.path, { resolveDir: dirname(entry), kind: args.kind, pluginData: "kiln-zod" });
      });
      // Other bare specifiers (packages) stay external; the worker imports them from node_modules.
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isAbsolute(args.path) || args.pluginData === "kiln-zod") return undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;
const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".jsx": "jsx",
};

/**
 * The bundle lives in .kiln/, but user code that finds files next to itself
 * (`new URL("./weights.bin", import.meta.url)`) must keep seeing its own source location.
 */
function keepImportMeta(roots: string[]): Plugin {
  return {
    name: "kiln-import-meta",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.path.includes("/node_modules/") || !roots.some((r) => args.path.startsWith(r)))
          return undefined;
        const text = await readFile(args.path, "utf8");
        if (!text.includes("import.meta.")) return undefined;
        const values = {
          url: pathToFileURL(args.path).href,
          dirname: dirname(args.path),
          filename: args.path,
        };
        const contents = text.replace(IMPORT_META, (_m, key: keyof typeof values) =>
          JSON.stringify(values[key]),
        );
        return { contents, loader: LOADERS[extname(args.path)] ?? "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

function formatMessage(m: Message, root: string): string {
  if (!m.location) return m.text;
  const file = isAbsolute(m.location.file) ? relative(root, m.location.file) : m.location.file;
  return `${file}:${m.location.line}:${m.location.column + 1}: ${m.text}`;
}

/** Where the compiled module of a predictor file goes: .kiln/predict.mjs for predict.ts. */
function compiledPath(root: string, file: string): string {
  const stem = file.replace(/\\/g, "/").replace(extname(file), "").replace(/\//g, "__");
  return join(root, ".kiln", `${stem}.mjs`);
}

export async function compileTsPredictor(root: string, ref: PredictorRef): Promise<{ outFile: string }> {
  if (ref.language === "python") {
    throw new BuildError(
      `${ref.file} is a Python predictor; only TypeScript/JavaScript predictors are compiled`,
    );
  }
  const entryFile = resolve(root, ref.file);
  if (!existsSync(entryFile)) {
    throw new BuildError(`${ref.file} not found in ${root}`, {
      hint: `Check \`predict: "${ref.raw}"\` in cog.yaml.`,
    });
  }
  const outFile = compiledPath(root, ref.file);
  const key = `${KILN_VERSION} ${sdkEntry()}`;
  if (await upToDate(outFile, key)) return { outFile };
  await mkdir(dirname(outFile), { recursive: true });
  // A failed or interrupted compile must not leave a record that vouches for an old bundle.
  await rm(inputsFile(outFile), { force: true });
  const esbuild = await loadEsbuild();
  let inputs: string[];
  compiles++;
  try {
    const result = await esbuild.build({
      entryPoints: [entryFile],
      outfile: outFile,
      absWorkingDir: root,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: true,
      sourcesContent: false,
      logLevel: "silent",
      metafile: true,
      // esbuild sees real paths: match the project root both as given and with symlinks resolved.
      plugins: [kilnResolver(sdkEntry()), keepImportMeta([root, await realpath(root)])],
      // Bundled CommonJS code may call require(); give ESM output a real one.
      banner: {
        js: 'import { createRequire as __kilnCreateRequire } from "node:module"; const require = __kilnCreateRequire(import.meta.url);',
      },
    });
    inputs = Object.keys(result.metafile.inputs).map((p) => resolve(root, p));
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (!errors || errors.length === 0) throw err;
    const [first, ...rest] = errors.map((m) => formatMessage(m, root));
    throw new BuildError(`cannot compile ${basename(ref.file)}: ${first}`, {
      details: rest,
      hint: "Fix the error above in your predictor source and run the command again.",
      cause: err,
    });
  } finally {
    // The last compile in flight stops esbuild's service; the next compile starts a fresh one.
    if (--compiles === 0) await esbuild.stop();
  }
  await writeInputs(outFile, key, inputs);
  return { outFile };
}

/** Compiles in flight in this process (esbuild's service is shared between them). */
let compiles = 0;

interface InputsRecord {
  key: string;
  /** Every input file of the bundle and the sha256 of the content it was made from. */
  files: Record<string, string>;
  /**
   * "size:mtime (ns)" of the inputs whose content was hashed: a file whose stat is unchanged is not
   * read again (the SDK and zod alone are ~100 files, hashed on every start before). Left out for a file
   * changed in the last second, whose next edit could keep its size and timestamp (coarse clocks).
   */
  stats?: Record<string, string>;
}

const inputsFile = (outFile: string): string => `${outFile}.inputs.json`;

/** Files changed this recently get no stat entry: an edit in the same clock tick could go unseen. */
const SETTLED_MS = 1000;

async function sha256(file: string): Promise<string | null> {
  try {
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  } catch {
    return null;
  }
}

/** The stat of `file` as recorded, or null when it is missing or changed too recently to trust. */
function settledStat(file: string, now: number): string | null {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st || Number(st.mtimeMs) > now - SETTLED_MS) return null;
  return `${st.size}:${st.mtimeNs}`;
}

function currentStat(file: string): string | null {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeNs}` : null;
}

async function writeRecord(outFile: string, key: string, files: Record<string, string>): Promise<void> {
  const now = Date.now();
  const stats: Record<string, string> = {};
  for (const file of Object.keys(files)) {
    const st = settledStat(file, now);
    if (st) stats[file] = st;
  }
  const record: InputsRecord = { key, files, stats };
  await writeFile(inputsFile(outFile), `${JSON.stringify(record)}\n`);
}

async function writeInputs(outFile: string, key: string, inputs: string[]): Promise<void> {
  const files: Record<string, string> = {};
  for (const file of inputs) {
    const hash = await sha256(file);
    if (hash) files[file] = hash;
  }
  await writeRecord(outFile, key, files);
}

/**
 * The bundle exists and every file it was made from still has the content it was made from: files
 * whose size and mtime are as recorded count as unchanged, the others are hashed (a touched file whose
 * content is the same keeps the bundle, and its new stat is recorded).
 */
async function upToDate(outFile: string, key: string): Promise<boolean> {
  if (!existsSync(outFile) || !existsSync(`${outFile}.map`)) return false;
  let record: InputsRecord;
  try {
    record = JSON.parse(await readFile(inputsFile(outFile), "utf8")) as InputsRecord;
  } catch {
    return false;
  }
  if (record.key !== key || typeof record.files !== "object" || record.files === null) return false;
  const entries = Object.entries(record.files);
  if (entries.length === 0) return false;
  const stats = record.stats ?? {};
  const unsure = entries.filter(([file]) => stats[file] === undefined || stats[file] !== currentStat(file));
  if (unsure.length === 0) return true;
  const hashes = await Promise.all(unsure.map(([file]) => sha256(file)));
  if (!unsure.every(([, hash], i) => hashes[i] === hash)) return false;
  await writeRecord(outFile, key, record.files).catch(() => undefined); // a read-only project still runs
  return true;
}
