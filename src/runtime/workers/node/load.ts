/**
 * Loads the user's compiled predictor module and finds the kiln predictor among its exports.
 * Also turns errors into "file:line: Error: message" using source-mapped stack frames.
 */
import { existsSync } from "node:fs";
import { extname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CONTRACT_VERSION, PREDICTOR_SYMBOL_KEY, type PredictorRuntime } from "../../../sdk/contract.js";

class LoadError extends Error {
  override name = "LoadError";
}

/** Splits "path/file.mjs:export" at the last colon. */
function parseTarget(spec: string): { file: string; name: string } {
  const at = spec.lastIndexOf(":");
  if (at <= 0 || at === spec.length - 1) throw new LoadError(`expected <file>:<export>, got "${spec}"`);
  return { file: spec.slice(0, at), name: spec.slice(at + 1) };
}

export async function loadPredictor(root: string, spec: string): Promise<PredictorRuntime> {
  const { file, name } = parseTarget(spec);
  const path = isAbsolute(file) ? file : resolve(root, file);
  const ext = extname(path);
  if ([".ts", ".mts", ".cts", ".tsx"].includes(ext)) {
    throw new LoadError(
      `${file} is TypeScript: the node worker runs compiled JavaScript (kiln compiles predict.ts first)`,
    );
  }
  if (ext !== ".js" && ext !== ".mjs")
    throw new LoadError(`${file}: the node worker loads .js or .mjs files only`);
  if (!existsSync(path)) throw new LoadError(`${file} not found (looked in ${root})`);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  if (!(name in mod)) {
    const names = Object.keys(mod).filter((k) => k !== "__esModule");
    throw new LoadError(
      `${file} has no export named "${name}" (it exports: ${names.join(", ") || "nothing"})`,
    );
  }
  const value = mod[name];
  const runtime =
    typeof value === "object" && value !== null
      ? (value as Record<symbol, PredictorRuntime | undefined>)[Symbol.for(PREDICTOR_SYMBOL_KEY)]
      : undefined;
  if (!runtime) {
    throw new LoadError(
      `export "${name}" of ${file} is not a kiln predictor: create it with definePredictor() from "kiln-ml"`,
    );
  }
  if (runtime.contract !== CONTRACT_VERSION) {
    throw new LoadError(
      `export "${name}" was built for kiln predictor contract ${runtime.contract}, this worker speaks ${CONTRACT_VERSION}`,
    );
  }
  return runtime;
}

const FRAME = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/;

/** The first stack frame in the user's own code, as "file:line" relative to root. */
function userLocation(err: unknown, root: string): string | null {
  const stack = err instanceof Error && typeof err.stack === "string" ? err.stack : "";
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const path = m[1]?.startsWith("file://") ? fileURLToPath(m[1]) : (m[1] ?? "");
    if (path.includes("/node_modules/") || path.includes("/.kiln/")) continue;
    const rel = relative(root, path);
    if (rel.startsWith("..") || isAbsolute(rel)) continue;
    return `${rel}:${m[2]}`;
  }
  return null;
}

/** "predict.ts:12: Error: message" (or without location when none is known). */
export function describeError(err: unknown, root: string): string {
  let text = err instanceof Error ? `${err.name}: ${err.message}` : `Error: ${String(err)}`;
  const missing = /Cannot find package '([^']+)'/.exec(text);
  if ((err as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" && missing) {
    text += ` (add it to the project's package.json dependencies and run npm install)`;
  }
  const where = userLocation(err, root);
  return where ? `${where}: ${text}` : text;
}

/** The message of a thrown value, for `failed` frames (no stack: that goes to the logs). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
