/**
 * Finds cog.yaml (upward from the working directory, or `-f FILE`), reads it safely (size cap,
 * binary check) and parses it. The one entry point commands use.
 */
import { open, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ManifestError, ManifestNotFoundError, type ManifestProblem } from "../errors.js";
import {
  readCachedParse,
  recordingProbe,
  writeCachedParse,
  type ManifestCacheKey,
} from "./manifest-cache.js";
import { rememberSource } from "./positions.js";
import type { ResolvedManifest } from "./types.js";
import { positionIndex } from "./yaml-index.js";

const MANIFEST_NAME = "cog.yaml";
/** cog.yaml holds settings, never data: anything bigger is the wrong file, refused before parsing. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface LoadOptions {
  cwd: string;
  /** `-f FILE`, relative to cwd. */
  file?: string | undefined;
  /**
   * Reuse the last parse of this file when nothing it depends on changed, and store this one
   * (<root>/.kiln/manifest-cache.json; manifest-cache.ts). For commands that run the model.
   */
  cache?: boolean;
}

export interface LoadedManifest {
  manifest: ResolvedManifest;
  warnings: ManifestProblem[];
  /** True when the manifest came from the cache (`cache: true`), without parsing. */
  cached: boolean;
}

export async function loadManifest(opts: LoadOptions): Promise<LoadedManifest> {
  const file =
    opts.file !== undefined ? await explicitFile(opts.cwd, opts.file) : await findManifest(opts.cwd);
  const display = displayName(opts.cwd, file);
  const text = await readManifestText(file, display);
  const root = dirname(file);
  const key: ManifestCacheKey = { file, root, displayName: display, text };
  const hit = opts.cache ? readCachedParse(key) : undefined;
  if (hit) {
    rememberSource(hit.manifest, { displayName: display, yaml: positionIndex(hit.nodes) });
    return { manifest: hit.manifest, warnings: hit.warnings, cached: true };
  }
  // The parser (yaml, zod and every rule) is loaded only when the cache cannot answer.
  const { parseManifest } = await import("./parse.js");
  const recorder = opts.cache ? recordingProbe(root) : undefined;
  const result = parseManifest(text, { file, root, displayName: display, probe: recorder?.probe });
  const errors = result.problems.filter((p) => p.severity === "error");
  if (errors.length > 0 || !result.manifest) throw new ManifestError(errors, { total: result.errorCount });
  const warnings = result.problems.filter((p) => p.severity === "warning");
  if (recorder && result.nodes)
    writeCachedParse(key, { manifest: result.manifest, warnings, nodes: result.nodes }, recorder.answers);
  return { manifest: result.manifest, warnings, cached: false };
}

/** The nearest cog.yaml in `cwd` or a parent directory. */
async function findManifest(cwd: string): Promise<string> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, MANIFEST_NAME);
    if (await isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const yml = join(resolve(cwd), "cog.yml");
  if (await isFile(yml)) {
    throw new ManifestNotFoundError(
      `No ${MANIFEST_NAME} found, but there is a cog.yml in ${resolve(cwd)}.`,
      "rename it to cog.yaml, or pass -f cog.yml",
    );
  }
  throw new ManifestNotFoundError(
    `No ${MANIFEST_NAME} found in ${resolve(cwd)} or any parent directory.`,
    "run `kiln init` to create one, or pass -f FILE to use another file",
  );
}

async function explicitFile(cwd: string, file: string): Promise<string> {
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  const st = await stat(abs).catch(() => undefined);
  if (!st)
    throw new ManifestNotFoundError(
      `The manifest ${file} does not exist (looked for ${abs}).`,
      "check the path given with -f (it is relative to the current directory)",
    );
  if (st.isDirectory()) {
    const inside = join(abs, MANIFEST_NAME);
    if (await isFile(inside)) return inside;
    throw new ManifestNotFoundError(
      `${file} is a directory without a ${MANIFEST_NAME}.`,
      "pass the manifest file itself with -f",
    );
  }
  return abs;
}

async function readManifestText(file: string, display: string): Promise<string> {
  const st = await stat(file);
  const fail = (message: string, hint: string): never => {
    throw new ManifestError([
      { file: display, line: 1, column: 1, path: "", message, hint, severity: "error" },
    ]);
  };
  if (st.size > MAX_MANIFEST_BYTES) {
    fail(
      `the file is ${formatSize(st.size)}; kiln refuses manifests larger than 1 MB`,
      `${display} holds settings only (a few KB): is this the right file?`,
    );
  }
  // Read at most the cap even if the file grows between stat and read.
  const handle = await open(file, "r");
  let bytes: Buffer;
  try {
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    bytes = buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (bytes.length > MAX_MANIFEST_BYTES)
    fail(
      "the file is larger than 1 MB; kiln refuses to parse it",
      `${display} holds settings only: is this the right file?`,
    );
  return decodeText(bytes, fail);
}

/** UTF-8 text, or a clear refusal for binary and UTF-16 files. */
function decodeText(bytes: Buffer, fail: (message: string, hint: string) => never): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    fail("the file is UTF-16 encoded", "save it as UTF-8");
  }
  if (bytes.includes(0))
    fail("the file is not text (it contains binary data)", "cog.yaml must be a YAML text file in UTF-8");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(
      "the file is not valid UTF-8 text (it looks binary)",
      "cog.yaml must be a YAML text file in UTF-8",
    );
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function displayName(cwd: string, file: string): string {
  const rel = relative(resolve(cwd), file);
  // Short relative paths read best (`cog.yaml`, `../cog.yaml`); far-away files keep their absolute path.
  return isAbsolute(rel) || rel.startsWith(`..${sep}..${sep}..`) ? file : rel;
}

async function isFile(p: string): Promise<boolean> {
  const st = await stat(p).catch(() => undefined);
  return st?.isFile() ?? false;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
