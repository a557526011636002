import { readFileSync } from "node:fs";

/** kiln's npm package: what users install and import in predict.ts (the command stays `kiln`). */
export const PACKAGE_NAME = "kiln-ml";

// Injected by scripts/bundle-runtime.mjs (esbuild `define`); absent when running from src/ or dist/.
declare const __KILN_VERSION__: string | undefined;

/** kiln's version as the runtime reports it (health-check, openapi info.version, GET /). */
function readVersion(): string {
  if (typeof __KILN_VERSION__ === "string") return __KILN_VERSION__;
  // From src/runtime/ or dist/runtime/ (tsconfig.build) and dist/src/runtime/ (tsconfig); src/version.ts re-exports this.
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0-unknown";
}

export const RUNTIME_VERSION: string = readVersion();
