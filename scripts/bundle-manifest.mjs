// Bundles the cog.yaml checker in place: dist/manifest/parse.js (tsc's output) with the manifest
// modules it imports, yaml and zod, so a command that parses cog.yaml loads one file where it loaded
// ~140 (each ESM file costs a resolution, a read and a compile: half of the check's CPU time).
// positions.js stays a module of its own, imported by a relative path: it maps each manifest to its
// source for problems found later, and that map must be the one the rest of the CLI reads. Everything
// outside dist/manifest stays outside too. load.js imports parse.js only when the cached parse
// (manifest-cache.js) cannot answer. Run by `npm run build` after tsc; `node scripts/bundle-manifest.mjs [DIST]`.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const dist = resolve(process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url)));
const manifest = join(dist, "manifest");
const entry = join(manifest, "parse.js");
// Packages the bundle takes in; any other stays an import of node_modules.
const BUNDLED_PACKAGES = new Set(["yaml", "zod"]);
// Modules with state the rest of the CLI shares: imported, never copied.
const SHARED = new Set([join(manifest, "positions.js")]);

const keepShared = {
  name: "kiln-manifest-shared-modules",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined; // inside yaml or zod
      if (!args.path.startsWith(".")) {
        const name = args.path.startsWith("@")
          ? args.path.split("/").slice(0, 2).join("/")
          : args.path.split("/")[0];
        return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
      }
      const target = resolve(args.resolveDir, args.path);
      if (target.startsWith(manifest + sep) && !SHARED.has(target)) return undefined;
      let rel = relative(dirname(entry), target).split(sep).join("/");
      if (!rel.startsWith(".")) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

if (!existsSync(entry)) {
  console.error(`bundle-manifest: ${entry} is missing (run tsc first)`);
  process.exit(1);
}
await build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // yaml is CommonJS: give the ESM bundle a real require() for what it loads.
  banner: {
    js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
  },
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  plugins: [keepShared],
});
