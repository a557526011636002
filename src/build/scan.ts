/**
 * Walks the project into the list of files the build context will hold: .dockerignore applied, .git and
 * kiln's own .kiln cache left out, symlinks kept as links but refused when they escape the project or
 * loop. Only metadata is read here; contents are streamed later by context.ts.
 */
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { BuildError } from "../errors.js";
import { PACKAGE_NAME } from "../version.js";
import { IgnoreMatcher } from "./dockerignore.js";
import type { ProjectFile } from "./weights.js";

/** Never sent: VCS data and kiln's local caches (compiled predictors are added back explicitly). */
const ALWAYS_EXCLUDED = [".git", ".kiln"];

export interface ScanOptions {
  /** Relative paths that must be in the context even under an excluded directory (compiled predictor). */
  forceInclude?: string[];
  /** Extra .dockerignore patterns, applied after the project's own. */
  extraIgnore?: string[];
}

const inside = (root: string, p: string): boolean =>
  p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
const toPosix = (p: string): string => p.split(sep).join("/");

/**
 * node_modules entries that belong to the host, never to the image. With a package.json, all of it: the
 * image gets its packages from `npm ci` of the lock file (and without one, package.json may only list
 * devDependencies, which the image does not need). Otherwise at least kiln's own package (its SDK is
 * bundled into the compiled predictor; `npm link` makes it a symlink out of the project) and .bin links.
 */
export async function hostOnlyPaths(root: string, language: "python" | "node"): Promise<string[]> {
  const ignore = await readIgnore(root);
  const sent = (f: string): boolean => existsSync(join(root, f)) && !ignore.ignores(f);
  if (language === "node" && sent("package.json")) return ["node_modules"];
  return [`node_modules/${PACKAGE_NAME}`, "node_modules/.bin"];
}

async function readIgnore(root: string): Promise<IgnoreMatcher> {
  try {
    return IgnoreMatcher.fromText(await readFile(join(root, ".dockerignore"), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new IgnoreMatcher([]);
    throw err;
  }
}

export async function scanProject(rootIn: string, options: ScanOptions = {}): Promise<ProjectFile[]> {
  const root = await realpath(rootIn);
  const base = await readIgnore(root);
  const ignore = options.extraIgnore?.length
    ? new IgnoreMatcher([
        ...base.patterns,
        ...IgnoreMatcher.fromText(options.extraIgnore.join("\n")).patterns,
      ])
    : base;
  const files: ProjectFile[] = [];

  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    // Sorted so errors and listings are the same on every machine.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const rel = toPosix(relative(root, abs));
      if (ALWAYS_EXCLUDED.includes(rel)) continue;
      if (entry.isDirectory()) {
        if (ignore.canPrune(rel)) continue;
        await walk(abs);
      } else if (entry.isSymbolicLink()) {
        if (ignore.ignores(rel)) continue;
        files.push(await checkSymlink(root, abs, rel));
      } else if (entry.isFile()) {
        if (ignore.ignores(rel)) continue;
        const st = await lstat(abs);
        files.push({ path: rel, size: st.size, mode: st.mode & 0o777, type: "file" });
      }
      // sockets, fifos and devices cannot go into an image: skipped like docker does
    }
  };
  await walk(root);

  for (const rel of options.forceInclude ?? []) {
    if (files.some((f) => f.path === rel)) continue;
    const st = await stat(join(root, rel));
    files.push({ path: rel, size: st.size, mode: st.mode & 0o777, type: "file" });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}

async function checkSymlink(root: string, abs: string, rel: string): Promise<ProjectFile> {
  const target = await readlink(abs);
  const lexical = resolve(dirname(abs), target);
  const escape = (): BuildError =>
    new BuildError(`${rel} is a symlink to ${target}, outside the project`, {
      hint: "The image only holds files inside the project: copy the target in, or add the link to .dockerignore.",
    });
  if (!inside(root, lexical)) throw escape();
  try {
    const real = await realpath(abs);
    if (!inside(root, real)) throw escape();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") {
      throw new BuildError(`${rel} is part of a symlink loop (${rel} -> ${target} -> ...)`, {
        hint: "Remove or fix the link, or add it to .dockerignore.",
      });
    }
    if (code !== "ENOENT") throw err; // a dangling link inside the project is copied as is, like docker does
  }
  return { path: rel, size: 0, mode: 0o777, type: "symlink", linkTarget: target };
}
