/**
 * The last successful parse of a project's cog.yaml, kept in <root>/.kiln/manifest-cache.json, so
 * commands that run the model (`kiln serve --no-docker` above all) skip the YAML parser and the zod
 * schemas (~100 ms of module loading) when nothing changed.
 *
 * A parse is a function of the file's text, its location, the project files the rules looked at and
 * kiln's own manifest code. The record holds all four: the text's SHA-256; the path and display
 * name; every answer the file probe gave (a path's kind, or the SHA-256 of the bytes read); and a
 * fingerprint of the manifest modules and of the yaml and zod packages (size and mtime of each file).
 * A hit asks the same questions of the disk again and needs the same answers; anything else is a
 * miss, and the full parse runs (and reports every error exactly as it always does: only error-free
 * parses are stored). The YAML position index is stored too, so problems found later (`failAt`) are
 * still reported at their line and column.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import type { ManifestProblem } from "../errors.js";
import { diskProbe, type FileProbe } from "./files.js";
import type { ResolvedManifest } from "./types.js";
import type { NodeInfo } from "./yaml-index.js";

/** What identifies one parse: the manifest's text and where it was read from. */
export interface ManifestCacheKey {
  /** Absolute path of the manifest. */
  file: string;
  root: string;
  displayName: string;
  text: string;
}

/** One question the rules asked about the project's files, and the answer they got. */
type ProbeAnswer =
  | { op: "kind"; path: string; kind: "file" | "dir" | "missing" }
  | { op: "read"; path: string; maxBytes: number; sha256: string | null };

/** The parse's result as stored (and as a hit returns it). */
export interface CachedParse {
  manifest: ResolvedManifest;
  warnings: ManifestProblem[];
  nodes: ReadonlyMap<string, NodeInfo>;
}

interface CacheRecord {
  format: typeof FORMAT;
  code: string;
  file: string;
  displayName: string;
  text: string;
  probes: ProbeAnswer[];
  manifest: ResolvedManifest;
  warnings: ManifestProblem[];
  nodes: [string, NodeInfo][];
}

const FORMAT = 1;
const HERE = dirname(fileURLToPath(import.meta.url));

const cacheFile = (root: string): string => join(root, ".kiln", "manifest-cache.json");

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

let codeFingerprint: string | undefined;

/**
 * Size and mtime of kiln's manifest modules and of the packages they parse and validate with: a
 * changed rule, an upgraded kiln or a reinstalled yaml/zod makes every stored parse a miss.
 */
function code(): string {
  if (codeFingerprint !== undefined) return codeFingerprint;
  const files = readdirSync(HERE)
    .filter((name) => /\.[cm]?[jt]s$/.test(name) && !name.endsWith(".d.ts"))
    .sort()
    .map((name) => join(HERE, name));
  const require = createRequire(import.meta.url);
  for (const pkg of ["yaml", "zod"]) {
    try {
      files.push(require.resolve(`${pkg}/package.json`));
    } catch {
      files.push(`${pkg}: unresolved`);
    }
  }
  codeFingerprint = files
    .map((file) => {
      const st = statSync(file, { bigint: true, throwIfNoEntry: false });
      return st ? `${file}:${st.size}:${st.mtimeNs}` : `${file}:missing`;
    })
    .join("\n");
  return codeFingerprint;
}

/** A probe that answers from the disk and remembers each answer for the record. */
export function recordingProbe(root: string): { probe: FileProbe; answers: ProbeAnswer[] } {
  const disk = diskProbe(root);
  const answers: ProbeAnswer[] = [];
  return {
    answers,
    probe: {
      kind(path) {
        const kind = disk.kind(path);
        answers.push({ op: "kind", path, kind });
        return kind;
      },
      read(path, maxBytes) {
        const text = disk.read(path, maxBytes);
        answers.push({ op: "read", path, maxBytes, sha256: text === undefined ? null : sha256(text) });
        return text;
      },
    },
  };
}

/** The stored parse for `key`, if every answer it was made from still holds; else undefined. */
export function readCachedParse(key: ManifestCacheKey): CachedParse | undefined {
  let record: CacheRecord;
  try {
    record = JSON.parse(readFileSync(cacheFile(key.root), "utf8")) as CacheRecord;
  } catch {
    return undefined;
  }
  if (
    record?.format !== FORMAT ||
    record.file !== key.file ||
    record.displayName !== key.displayName ||
    record.text !== sha256(key.text) ||
    !Array.isArray(record.probes) ||
    !Array.isArray(record.nodes) ||
    !Array.isArray(record.warnings) ||
    typeof record.manifest !== "object" ||
    record.manifest === null ||
    record.code !== code()
  )
    return undefined;
  const disk = diskProbe(key.root);
  for (const answer of record.probes) {
    if (answer.op === "kind") {
      if (disk.kind(answer.path) !== answer.kind) return undefined;
    } else {
      const text = disk.read(answer.path, answer.maxBytes);
      if ((text === undefined ? null : sha256(text)) !== answer.sha256) return undefined;
    }
  }
  return { manifest: record.manifest, warnings: record.warnings, nodes: new Map(record.nodes) };
}

/**
 * Stores a successful parse (best effort: a read-only project simply gets no cache). A result that
 * JSON cannot carry exactly (say a YAML `.inf`) is not stored, so a hit always equals the parse.
 */
export function writeCachedParse(key: ManifestCacheKey, parse: CachedParse, probes: ProbeAnswer[]): void {
  const stored = { manifest: parse.manifest, warnings: parse.warnings };
  const json = JSON.stringify(stored);
  if (!isDeepStrictEqual(JSON.parse(json), withoutUndefined(stored))) return;
  const record: CacheRecord = {
    format: FORMAT,
    code: code(),
    file: key.file,
    displayName: key.displayName,
    text: sha256(key.text),
    probes,
    ...stored,
    nodes: [...parse.nodes],
  };
  const target = cacheFile(key.root);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(temp, `${JSON.stringify(record)}\n`);
    // A rename replaces the record at once: a concurrent reader sees the old one or the new one.
    renameSync(temp, target);
  } catch {
    // No cache this time; the next run parses again.
    rmSync(temp, { force: true });
  }
}

/** `value` with undefined object properties dropped, as JSON drops them. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== "object") return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
  return out;
}
