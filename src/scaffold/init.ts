/**
 * `kiln init`: a starter project from templates/ (cog.yaml, predictor, .dockerignore, CI workflow),
 * written all or nothing and never over an existing file.
 */
import { lstat, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunContext } from "../context.js";
import { UsageError } from "../errors.js";
import { KILN_VERSION, PACKAGE_NAME } from "../version.js";

export type InitLanguage = "ts" | "python";

/** templates/ at the package root: the same relative path from src/scaffold and dist/scaffold. */
const TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));

/** Target path in the new project -> template file under templates/. */
const FILES: Record<InitLanguage, [target: string, template: string][]> = {
  ts: [
    ["cog.yaml", "ts/cog.yaml"],
    ["predict.ts", "ts/predict.ts"],
    ["package.json", "ts/package.json"],
    ["tsconfig.json", "ts/tsconfig.json"],
    [".dockerignore", "common/dockerignore"],
    [".github/workflows/kiln.yml", "common/workflow-ts.yml"],
  ],
  python: [
    ["cog.yaml", "python/cog.yaml"],
    ["predict.py", "python/predict.py"],
    ["requirements.txt", "python/requirements.txt"],
    [".dockerignore", "common/dockerignore"],
    [".github/workflows/kiln.yml", "common/workflow-python.yml"],
  ],
};

/** Written only when absent: a repository's own .gitignore is kept as it is, and does not block init. */
const OPTIONAL: [target: string, template: string][] = [[".gitignore", "common/gitignore"]];

/** Writes the starter files (all or nothing) and prints the next steps; returns the paths written. */
export async function runInit(ctx: RunContext, dirArg: string, lang: InitLanguage): Promise<string[]> {
  const dir = resolve(ctx.cwd, dirArg);
  const dirStat = await stat(dir).catch(() => undefined);
  if (dirStat && !dirStat.isDirectory())
    throw new UsageError(
      `${dirArg} exists and is not a directory.`,
      "pass a new or existing directory to kiln init",
    );

  const files = FILES[lang];
  const existing: string[] = [];
  for (const [target] of files) {
    if (await lstat(join(dir, target)).catch(() => undefined)) existing.push(target);
  }
  if (existing.length > 0) {
    throw new UsageError(
      `kiln init would overwrite ${existing.join(", ")} in ${shown(ctx.cwd, dir)}; nothing was written.`,
      "kiln init never overwrites files: move them away, or run kiln init in an empty directory (kiln init <dir>)",
    );
  }

  const vars = { __NAME__: projectName(dir), __KILN_VERSION__: KILN_VERSION, __PACKAGE__: PACKAGE_NAME };
  const kept: string[] = [];
  const optional: typeof files = [];
  for (const entry of OPTIONAL) {
    if (await lstat(join(dir, entry[0])).catch(() => undefined)) kept.push(entry[0]);
    else optional.push(entry);
  }
  const written: string[] = [];
  try {
    for (const [target, template] of [...files, ...optional]) {
      const text = (await readFile(join(TEMPLATES, template), "utf8")).replace(
        /__NAME__|__KILN_VERSION__|__PACKAGE__/g,
        (m) => vars[m as keyof typeof vars],
      );
      const path = join(dir, target);
      await mkdir(dirname(path), { recursive: true });
      // "wx": fail instead of overwriting a file that appeared since the check above.
      await writeFile(path, text, { flag: "wx" });
      written.push(path);
    }
  } catch (err) {
    // All or nothing: remove what this run created, so a retry starts clean.
    await Promise.all(written.map((p) => rm(p, { force: true })));
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new UsageError(`A file appeared while kiln init was writing; nothing was written.`);
    throw err;
  }

  const { out } = ctx;
  for (const path of written) out.print(`created ${shown(ctx.cwd, path)}`);
  for (const target of kept) {
    const text = await readFile(join(dir, target), "utf8").catch(() => "");
    if (!/^\/?\.kiln\/?$/m.test(text))
      out.print(`kept ${shown(ctx.cwd, join(dir, target))}: add .kiln/ to it`);
  }
  out.print("");
  out.print("Next steps:");
  const cd = relative(ctx.cwd, dir) === "" ? [] : [`cd ${shown(ctx.cwd, dir)}`];
  const steps =
    lang === "ts"
      ? [...cd, "npm install", "npm run typecheck", 'kiln predict -i prompt="hello"']
      : [...cd, 'kiln predict -i prompt="hello"'];
  for (const step of steps) out.print(`  ${step}`);
  return written;
}

function shown(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

/** A valid npm/image name from the directory name. */
function projectName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return name === "" ? "model" : name;
}
