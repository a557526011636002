// Bundles one tsc-output module in place (scripts/bundle-cli.mjs, scripts/bundle-manifest.mjs): the
// entry with the sibling modules `inside` accepts and the npm packages named in `packages`, into the
// entry's own file. Every other import stays external, its path made relative to the bundle, so those
// modules still load once and are shared with whatever else imports them.
import { build } from "esbuild";
import { dirname, relative, resolve, sep } from "node:path";

/**
 * `inside(target, args)`: whether the relative import of absolute file `target` is bundled.
 * `packages`: the npm packages bundled (any other stays an import of node_modules).
 */
export async function bundleInPlace({ name, entry, packages, inside }) {
  const plugin = {
    name,
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        // Inside a bundled package (its own files): bundled with it.
        if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
        if (!args.path.startsWith(".")) {
          const pkg = args.path.startsWith("@")
            ? args.path.split("/").slice(0, 2).join("/")
            : args.path.split("/")[0];
          return packages.has(pkg) ? undefined : { path: args.path, external: true };
        }
        const target = resolve(args.resolveDir, args.path);
        if (inside(target, args)) return undefined;
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
    // Bundled CommonJS packages (commander, yaml) call require(): give the ESM bundle a real one.
    banner: {
      js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
    },
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    plugins: [plugin],
  });
}
