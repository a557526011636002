// Bundles the cog.yaml checker in place: dist/manifest/parse.js (tsc's output) with the manifest
// modules it imports, yaml and zod, so a command that parses cog.yaml loads one file where it loaded
// ~140 (each ESM file costs a resolution, a read and a compile: half of the check's CPU time).
// positions.js stays a module of its own, imported by a relative path: it maps each manifest to its
// source for problems found later, and that map must be the one the rest of the CLI reads. Everything
// outside dist/manifest stays outside too. load.js imports parse.js only when the cached parse
// (manifest-cache.js) cannot answer. Run by `npm run build` after tsc; `node scripts/bundle-manifest.mjs [DIST]`.
import { existsSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleInPlace } from "./bundle-in-place.mjs";

const dist = resolve(process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url)));
const manifest = join(dist, "manifest");
const entry = join(manifest, "parse.js");
// Modules with state the rest of the CLI shares: imported, never copied.
const SHARED = new Set([join(manifest, "positions.js")]);

if (!existsSync(entry)) {
  console.error(`bundle-manifest: ${entry} is missing (run tsc first)`);
  process.exit(1);
}
await bundleInPlace({
  name: "kiln-manifest-shared-modules",
  entry,
  // Packages the bundle takes in; any other stays an import of node_modules.
  packages: new Set(["yaml", "zod"]),
  inside: (target) => target.startsWith(manifest + sep) && !SHARED.has(target),
});
