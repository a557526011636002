/**
 * The runtime's server as a host process runs it in-process (`kiln serve|predict --no-docker`,
 * src/session/local-model.ts), loaded once its worker has started (local-worker.ts).
 * scripts/bundle-runtime.mjs bundles both into dist/local-runtime/ (worker.mjs, server.mjs and the
 * chunks they share; not copied into images), which the CLI loads instead of the modules when present.
 */
export { startServer } from "./server.js";
