#!/usr/bin/env node
// Regenerates schema/cog.schema.json from the zod schema in src/manifest/schema.ts.
// Usage: node scripts/gen-manifest-schema.mjs   (test/manifest/json-schema.test.ts fails when it is stale)
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = await mkdtemp(join(tmpdir(), "kiln-schema-"));
try {
  // Bundle the TypeScript entry with zod inlined, into a throwaway file we can import.
  const outfile = join(tmp, "gen-manifest-schema.mjs");
  await build({
    entryPoints: [join(root, "src/manifest/json-schema.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "warning",
  });
  const { manifestJsonSchemaText } = await import(pathToFileURL(outfile).href);
  const target = join(root, "schema", "cog.schema.json");
  await writeFile(target, manifestJsonSchemaText());
  process.stdout.write(`wrote ${target}\n`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
