// Bundles the CLI's own modules (dist/cli/**, tsc's output) and commander into dist/cli/main.js, in
// place: `kiln` then loads one file where it loaded ~40 (each ESM file costs resolution, a read and a
// compile: about half of `kiln --version`). Every module outside dist/cli (and each CLI module loaded
// with a dynamic import) stays a file of its own,
// imported by a path relative to the bundle, so session, docker, runtime, ... modules load once and
// are shared with what they import (one KilnError class, one engine client), and dynamic imports stay
// lazy. Run by `npm run build` after tsc; `node scripts/bundle-cli.mjs [DIST]`.
import { build } from "esbuild";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const dist = resolve(process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url)));
const cli = join(dist, "cli");
const entry = join(cli, "main.js");
// Packages the bundle takes in (everything else, e.g. ora, stays a lazy import of node_modules).
const BUNDLED_PACKAGES = new Set(["commander"]);

/** Imports leaving dist/cli become externals, their paths made relative to the bundle. */
const keepOutsideModules = {
  name: "kiln-cli-outside-modules",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      // Inside a bundled package (commander's own files): bundled with it.
      if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
      if (!args.path.startsWith(".")) {
        const name = args.path.startsWith("@")
          ? args.path.split("/").slice(0, 2).join("/")
          : args.path.split("/")[0];
        return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
      }
      const target = resolve(args.resolveDir, args.path);
      // The CLI's own modules are bundled, except those loaded on demand (the ora progress renderers):
      // bundled, their imports would be hoisted into the start-up file.
      if (target.startsWith(cli + sep) && args.kind !== "dynamic-import") return undefined;
      let rel = relative(dirname(entry), target).split(sep).join("/");
      if (!rel.startsWith(".")) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // commander is CommonJS: give the ESM bundle a real require() for the built-ins it loads.
  banner: {
    js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
  },
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  plugins: [keepOutsideModules],
});
