/**
 * The modules the published CLI can load at run time: a walk from bin/kiln.js over the sources it runs
 * (../dist/X.js is src/X.ts), following static imports, re-exports, dynamic import("...") and
 * require("...") / createRequire(...)("..."). `import type` is erased by the compiler and not followed.
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export interface ImportGraph {
  /** Files reached, relative to the repository root. */
  files: string[];
  /** package name -> the files that load it */
  packages: Map<string, string[]>;
}

const BUILTINS = new Set(builtinModules);

/** "zod/v4" -> "zod", "@scope/pkg/x" -> "@scope/pkg"; null for relative paths and Node built-ins. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
  return BUILTINS.has(name) ? null : name;
}

/** Module specifiers a file loads when it runs. */
export function loadedSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const literal = (n: ts.Node | undefined): string | null =>
    n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : null;
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      const s = literal(node.moduleSpecifier);
      if (s) found.push(s);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier) {
      const s = literal(node.moduleSpecifier);
      if (s) found.push(s);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const loads =
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && callee.text === "require") ||
        (ts.isCallExpression(callee) &&
          ts.isIdentifier(callee.expression) &&
          callee.expression.text === "createRequire");
      const s = loads ? literal(node.arguments[0]) : null;
      if (s) found.push(s);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Where a relative specifier of `from` points in the sources: X.js -> X.ts, and bin's ../dist -> src. */
function resolveSource(repo: string, from: string, specifier: string): string | null {
  let target = resolve(dirname(from), specifier);
  const dist = join(repo, "dist") + "/";
  if (target.startsWith(dist)) target = join(repo, "src", target.slice(dist.length));
  for (const candidate of [
    target.replace(/\.js$/, ".ts"),
    target,
    `${target}.ts`,
    join(target, "index.ts"),
  ]) {
    if (existsSync(candidate) && !candidate.endsWith("/")) return candidate;
  }
  return null;
}

export function walkImports(repo: string, entry: string): ImportGraph {
  const seen = new Set<string>();
  const packages = new Map<string, string[]>();
  const queue = [resolve(repo, entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of loadedSpecifiers(file, readFileSync(file, "utf8"))) {
      const pkg = packageOf(specifier);
      if (pkg) {
        packages.set(pkg, [...(packages.get(pkg) ?? []), relative(repo, file)]);
        continue;
      }
      if (specifier.startsWith("node:") || !specifier.startsWith(".")) continue;
      const next = resolveSource(repo, file, specifier);
      if (!next) throw new Error(`${relative(repo, file)}: cannot find ${specifier}`);
      queue.push(next);
    }
  }
  return { files: [...seen].map((f) => relative(repo, f)).sort(), packages };
}
