// The image server's bundle (src/runtime/main.ts -> server.mjs), shared by scripts/bundle-runtime.mjs
// and the benchmarks (bench/server-lib.mjs), so both measure the same files.
//
// Code splitting: what main.ts and server.ts import with `await import()` (queue mode and its Redis
// client, the /v1 API, the output cache, the playground, ...) goes into chunk files beside server.mjs,
// which node reads and compiles only when a mode or a request first needs them. A plain server then
// starts by evaluating a fraction of the code and keeps no source of the rest in memory. The chunks
// sit in the same directory as server.mjs (not a subdirectory), because the runtime finds its
// neighbours (python/, node-worker.mjs, playground/) relative to the module that looks for them.
// Chunk names carry a content hash, so identical sources give identical files (and images).
import { build } from "esbuild";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The prefix of every chunk file (what a clean rebuild removes first). */
export const CHUNK_PREFIX = "server-";

/** `text` with every non-ASCII character written as a \u escape (only comments still hold any). */
export function asciiOnly(text) {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The esbuild options every runtime bundle shares (server, node worker, gateway). */
export function runtimeBuildOptions(version) {
  return {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    define: { __KILN_VERSION__: JSON.stringify(version) },
    // Some bundled CommonJS code may call require(); give ESM output a real one (each chunk its own).
    banner: {
      js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
    },
    legalComments: "none",
    logLevel: "warning",
    // V8 keeps a script's source in memory, at two bytes per character once one character is not
    // ASCII: esbuild escapes strings and names, asciiOnly() the comments it keeps.
    charset: "ascii",
    write: false,
  };
}

/**
 * Bundles `entry` (src/runtime/main.ts) into `outdir`/server.mjs plus its chunks; returns the file
 * names written. `version` is kiln's (the runtime reports it).
 */
export async function bundleServer(entry, outdir, version) {
  for (const f of readdirSync(outdir)) if (f.startsWith(CHUNK_PREFIX)) rmSync(join(outdir, f));
  const { outputFiles } = await build({
    ...runtimeBuildOptions(version),
    entryPoints: { server: entry },
    outdir,
    splitting: true,
    outExtension: { ".js": ".mjs" },
    chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  });
  for (const f of outputFiles) writeFileSync(f.path, asciiOnly(f.text));
  return outputFiles.map((f) => f.path.slice(outdir.length).replace(/^\//, ""));
}
