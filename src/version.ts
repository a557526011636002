/**
 * kiln's version for the CLI and build. One source with the runtime: src/runtime/version.ts reads
 * package.json (or the value scripts/bundle-runtime.mjs injects), and runtime/ may not import from here.
 */
export { PACKAGE_NAME, RUNTIME_VERSION as KILN_VERSION } from "./runtime/version.js";
