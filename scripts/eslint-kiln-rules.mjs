/**
 * kiln's own lint rules (used by eslint.config.js), enforcing the layout in docs/architecture.md:
 *   kiln/layers          imports point downward only: nothing imports src/cli, the runtime half imports
 *                        only src/schema, src/sdk and Node built-ins, only src/docker reaches the engine's
 *                        transports, each third-party package stays in the folders that own it, and
 *                        no command imports another (what two commands share lives in src/cli);
 *   kiln/unused-exports  an export nobody imports (in src/, test/, bench/ or scripts/) is dead code.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/**
 * Which parts of src/ each part may import (besides itself). A folder not listed (a new one) may import
 * anything except src/cli; add it here when it lands.
 */
export const LAYERS = {
  cli: "*",
  session: [
    "build",
    "client-gen",
    "context.ts",
    "docker",
    "errors.ts",
    "fleet",
    "format.ts",
    "manifest",
    "playground",
    "prediction",
    "runtime",
    "schema",
    "version.ts",
  ],
  deploy: ["context.ts", "docker", "errors.ts", "format.ts", "version.ts"],
  scaffold: ["context.ts", "errors.ts", "version.ts"],
  "client-gen": ["errors.ts", "schema", "version.ts"],
  fleet: ["runtime", "schema", "sdk"],
  publish: ["build", "context.ts", "docker", "errors.ts", "format.ts", "manifest"],
  prediction: ["errors.ts", "schema"],
  build: ["docker", "errors.ts", "format.ts", "manifest", "runtime", "schema", "version.ts"],
  docker: ["errors.ts"],
  manifest: ["errors.ts"],
  schema: [],
  sdk: ["schema"],
  runtime: ["schema", "sdk"],
  "context.ts": ["build", "docker"],
  "errors.ts": [],
  "format.ts": [],
  "version.ts": ["runtime"],
};

/** The engine's transports: only src/docker may use them (everything else asks src/docker). */
const ENGINE_TRANSPORTS = ["src/docker/api.ts", "src/docker/cli.ts", "src/docker/endpoint.ts"];

/** Third-party packages and the parts of src/ that may import them (one owner each, see README). */
const PACKAGE_OWNERS = {
  commander: ["cli"],
  ora: ["cli"],
  yaml: ["manifest"],
  zod: ["manifest", "sdk"],
  "tar-stream": ["build"],
  esbuild: ["build"],
  typescript: ["build"],
  execa: ["docker", "build", "deploy"],
  ioredis: ["fleet"],
  "kubernetes-models": ["deploy"],
};

/**
 * The image's server entry starts queue mode (`kiln serve --queue` in a container), so it alone in
 * src/runtime may import src/fleet; the rest of the runtime stays below it.
 */
const ENTRY_EXCEPTIONS = { "src/runtime/main.ts": ["fleet"] };

/** Parts of src/ bundled into images: Node built-ins only (plus what LAYERS allows). */
const RUNTIME_HALF = new Set(["runtime", "sdk", "schema"]);
const BUILTINS = new Set(builtinModules);

function partOf(file) {
  const rel = relative(join(ROOT, "src"), file).split(sep);
  if (rel[0] === ".." || rel.length === 0) return undefined;
  return rel.length === 1 ? rel[0] : rel[0];
}

function targetOf(file, spec) {
  const abs = resolve(dirname(file), spec);
  return abs.endsWith(".js") ? `${abs.slice(0, -3)}.ts` : abs;
}

function packageName(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function checkImport(context, node, spec) {
  if (typeof spec !== "string") return;
  const file = context.filename;
  const from = partOf(file);
  if (from === undefined) return;
  if (spec.startsWith(".")) {
    const target = targetOf(file, spec);
    const commands = join(ROOT, "src", "cli", "commands");
    if (dirname(file) === commands && dirname(target) === commands && !file.endsWith(`${sep}index.ts`)) {
      context.report({
        node,
        message: `a command does not import another command (${relative(ROOT, target).split(sep).join("/")}): put what both need in src/cli (flags, options modules) or a domain module`,
      });
      return;
    }
    const to = partOf(target);
    if (to === undefined || to === from) return;
    const rel = relative(ROOT, target).split(sep).join("/");
    if (ENGINE_TRANSPORTS.includes(rel) && from !== "docker") {
      context.report({
        node,
        message: `only src/docker talks to the engine: import src/docker/engine.ts (or a src/docker module) instead of ${rel}`,
      });
      return;
    }
    if (to === "cli") {
      context.report({
        node,
        message: `nothing outside src/cli imports src/cli (${rel}): move what both need below src/cli`,
      });
      return;
    }
    const here = relative(ROOT, file).split(sep).join("/");
    if (ENTRY_EXCEPTIONS[here]?.includes(to)) return;
    const allowed = LAYERS[from];
    if (allowed === undefined || allowed === "*") return;
    if (!allowed.includes(to))
      context.report({
        node,
        message: `src/${from} may not import src/${to} (imports point downward: see docs/architecture.md and LAYERS in scripts/eslint-kiln-rules.mjs)`,
      });
    return;
  }
  if (spec.startsWith("node:") || BUILTINS.has(spec)) return;
  const pkg = packageName(spec);
  const owners = PACKAGE_OWNERS[pkg];
  if (RUNTIME_HALF.has(from) && !(owners ?? []).includes(from)) {
    context.report({
      node,
      message: `src/${from} is bundled into images: it uses Node built-ins only, not ${pkg}`,
    });
    return;
  }
  if (owners && !owners.includes(from))
    context.report({
      node,
      message: `${pkg} is used from ${owners.map((o) => `src/${o}`).join(" and ")} only (one owner per dependency): go through that module`,
    });
}

const layers = {
  meta: { type: "problem", schema: [] },
  create(context) {
    return {
      ImportDeclaration: (node) => checkImport(context, node, node.source.value),
      ExportNamedDeclaration: (node) => {
        if (node.source) checkImport(context, node, node.source.value);
      },
      ExportAllDeclaration: (node) => checkImport(context, node, node.source.value),
      ImportExpression: (node) => {
        if (node.source.type === "Literal") checkImport(context, node, node.source.value);
      },
    };
  },
};

/* ---------------------------------------------------------------- unused exports */

/** Entry points whose exports are used from outside the repository (package API, bundles, workers). */
const ENTRY_POINTS = new Set([
  "src/sdk/index.ts",
  "src/runtime/main.ts",
  "src/runtime/workers/node/main.ts",
  "src/cli/main.ts",
  "src/version.ts",
]);

let usage;

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist" || entry === ".kiln" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts|mjs|js)$/.test(entry)) out.push(path);
  }
  return out;
}

function splitNames(list) {
  return list
    .split(",")
    .map((s) => s.trim().replace(/^type\s+/, ""))
    .filter(Boolean)
    .map((s) => s.split(/\s+as\s+/)[0].trim());
}

/** For every source file: the names other files import from it ("*" when all of them may be used). */
function collectUsage() {
  const used = new Map();
  const mark = (target, names) => {
    const set = used.get(target) ?? new Set();
    for (const n of names) set.add(n);
    used.set(target, set);
  };
  const files = ["src", "test", "bench", "scripts"].flatMap((d) => walk(join(ROOT, d), []));
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const target = (spec) => targetOf(file, spec);
    for (const m of text.matchAll(/(?:import|export)\s+(?:type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/gs)) {
      const clause = m[1];
      const to = target(m[2]);
      if (/\*/.test(clause)) mark(to, ["*"]);
      const braces = /\{([^}]*)\}/s.exec(clause);
      if (braces) mark(to, splitNames(braces[1]));
      if (/^[A-Za-z_$][\w$]*\s*(,|$)/.test(clause.trim()) && !clause.trim().startsWith("{"))
        mark(to, ["default"]);
    }
    // const { a, b } = await import("./x.js")   and   import("./x.js") used whole
    for (const m of text.matchAll(
      /(?:const|let)\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*["'](\.[^"']+)["']\s*\)/gs,
    ))
      mark(target(m[2]), splitNames(m[1].replace(/:\s*[\w$]+/g, "")));
    for (const m of text.matchAll(
      /(?<!await\s)import\(\s*["'](\.[^"']+)["']\s*\)|(?:typeof|vi\.mock\()\s*import\(\s*["'](\.[^"']+)["']/g,
    ))
      mark(target(m[1] ?? m[2]), ["*"]);
    // `await import("./x.js")` kept whole (`const m = await import(...)`, `c ? await import(...) : null`):
    // any of its exports may be used.
    for (const m of text.matchAll(/await\s+import\(\s*["'](\.[^"']+)["']\s*\)/g))
      if (!/\}\s*=\s*$/.test(text.slice(Math.max(0, m.index - 10), m.index))) mark(target(m[1]), ["*"]);
    for (const m of text.matchAll(/vi\.mock\(\s*["'](\.[^"']+)["']/g)) mark(target(m[1]), ["*"]);
  }
  return used;
}

const unusedExports = {
  meta: { type: "suggestion", schema: [] },
  create(context) {
    const file = context.filename;
    const rel = relative(ROOT, file).split(sep).join("/");
    if (!rel.startsWith("src/") || ENTRY_POINTS.has(rel)) return {};
    usage ??= collectUsage();
    const names = usage.get(file);
    if (names?.has("*")) return {};
    const report = (node, name) => {
      if (!names?.has(name))
        context.report({
          node,
          message: `${name} is exported but imported nowhere (src, test, bench, scripts): drop the export or the code`,
        });
    };
    return {
      ExportNamedDeclaration(node) {
        // Types and interfaces name the shapes of exported signatures: only values are checked.
        if (node.source || node.exportKind === "type") return;
        const d = node.declaration;
        if (d?.type === "TSTypeAliasDeclaration" || d?.type === "TSInterfaceDeclaration") return;
        if (d?.type === "VariableDeclaration") {
          for (const v of d.declarations) if (v.id.type === "Identifier") report(v.id, v.id.name);
        } else if (d?.id) report(d.id, d.id.name);
        for (const s of node.specifiers ?? []) report(s, s.exported.name ?? s.exported.value);
      },
    };
  },
};

export const kilnRules = { rules: { layers, "unused-exports": unusedExports } };
