// Bundles the CLI's own modules (dist/cli/**, tsc's output) and commander into dist/cli/main.js, in
// place: `kiln` then loads one file where it loaded ~40 (each ESM file costs resolution, a read and a
// compile: about half of `kiln --version`). Every module outside dist/cli (and each CLI module loaded
// with a dynamic import) stays a file of its own,
// imported by a path relative to the bundle, so session, docker, runtime, ... modules load once and
// are shared with what they import (one KilnError class, one engine client), and dynamic imports stay
// lazy. Run by `npm run build` after tsc; `node scripts/bundle-cli.mjs [DIST]`.
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleInPlace } from "./bundle-in-place.mjs";

const dist = resolve(process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url)));
const cli = join(dist, "cli");

await bundleInPlace({
  name: "kiln-cli-outside-modules",
  entry: join(cli, "main.js"),
  // Packages the bundle takes in (everything else, e.g. ora, stays a lazy import of node_modules).
  packages: new Set(["commander"]),
  // The CLI's own modules are bundled, except those loaded on demand (the ora progress renderers):
  // bundled, their imports would be hoisted into the start-up file.
  inside: (target, args) => target.startsWith(cli + sep) && args.kind !== "dynamic-import",
});
