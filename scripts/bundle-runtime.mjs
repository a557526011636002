// Bundles the runtime half into self-contained files under dist/runtime-bundle/ (what images copy to
// /kiln/): server.mjs (src/runtime/main.ts, with its lazily loaded server-chunk-*.mjs files beside it:
// scripts/bundle-server.mjs), node-worker.mjs (src/runtime/workers/node/main.ts),
// gateway.mjs (src/fleet/gateway-main.ts), python/ (a copy of src/runtime/workers/python/) and
// playground/ (scripts/build-playground.mjs). No npm install is needed in the image.
//
// Everything is built into a staging directory first and then synced into place (scripts/sync-dir.mjs),
// so a rebuild with unchanged sources rewrites nothing and a reader never sees the bundle half-written.
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { asciiOnly, bundleServer, runtimeBuildOptions } from "./bundle-server.mjs";
import { syncDir } from "./sync-dir.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const dest = `${root}dist/runtime-bundle/`;
const out = `${root}dist/.runtime-bundle-${process.pid}/`;
const { version } = JSON.parse(readFileSync(`${root}package.json`, "utf8"));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = runtimeBuildOptions(version);

const missing = [];
if (existsSync(`${root}src/runtime/main.ts`)) await bundleServer(`${root}src/runtime/main.ts`, out, version);
else missing.push("src/runtime/main.ts");
const entries = [
  ["src/runtime/workers/node/main.ts", "node-worker.mjs"],
  // The fleet gateway (`node /kiln/gateway.mjs --redis URL`), so orchestrators can run it from the image.
  ["src/fleet/gateway-main.ts", "gateway.mjs"],
];
for (const [entry, file] of entries) {
  if (!existsSync(`${root}${entry}`)) {
    missing.push(entry);
    continue;
  }
  const { outputFiles } = await build({
    ...common,
    entryPoints: [`${root}${entry}`],
    outfile: `${out}${file}`,
  });
  for (const f of outputFiles) writeFileSync(f.path, asciiOnly(f.text));
}
// The same runtime for `kiln serve|predict --no-docker`, which load it into the CLI's own process:
// worker.mjs (enough to start the worker) and server.mjs (src/runtime/local-*.ts), sharing chunks;
// what the server loads lazily stays in chunks of its own, loaded when it is first needed.
// It sits beside the bundle, not in it, so images do not carry it.
{
  const dir = `${root}dist/.local-runtime-${process.pid}/`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { outputFiles } = await build({
    ...common,
    entryPoints: {
      worker: `${root}src/runtime/local-worker.ts`,
      server: `${root}src/runtime/local-server.ts`,
    },
    outdir: dir,
    splitting: true,
    outExtension: { ".js": ".mjs" },
    chunkNames: "shared-[hash]",
  });
  for (const f of outputFiles) writeFileSync(f.path, asciiOnly(f.text));
  syncDir(dir, `${root}dist/local-runtime/`);
}
const python = `${root}src/runtime/workers/python/`;
if (existsSync(python)) {
  cpSync(python, `${out}python/`, {
    recursive: true,
    filter: (src) => !src.includes("__pycache__") && !src.endsWith(".pyc"),
  });
} else missing.push("src/runtime/workers/python/");

// The browser playground (GET /playground) ships in the bundle too: images serve it from /kiln/playground/.
try {
  execFileSync(process.execPath, [`${root}scripts/build-playground.mjs`, `${out}playground`], {
    stdio: "inherit",
  });
} catch {
  rmSync(out, { recursive: true, force: true });
  process.exit(1); // build-playground printed why
}

if (missing.length > 0) {
  console.error(`bundle-runtime: missing ${missing.join(", ")}`);
  rmSync(out, { recursive: true, force: true });
  process.exit(1);
}
const written = syncDir(out, dest);
console.log(`bundle-runtime: wrote ${dest} (kiln ${version}; ${written} files changed)`);
