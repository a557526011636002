/**
 * Node built-ins the server loads the first time something needs them, not at start-up: node:crypto
 * alone costs a server ~1.4 MB of RSS (its JavaScript and the OpenSSL code it touches) and node:zlib
 * ~0.2 MB, node:worker_threads ~0.35 MB, while a server answering the container API needs no crypto
 * or zlib (random bytes come from random.ts), and one with a Python worker no worker threads. A static `import` would load them with the module that names them.
 */
import type * as Crypto from "node:crypto";
import { createRequire } from "node:module";
import type * as WorkerThreads from "node:worker_threads";
import type * as Zlib from "node:zlib";

// A require of our own, named so esbuild leaves the calls alone (they stay calls, made when reached).
const loadBuiltin = createRequire(import.meta.url);
let crypto: typeof Crypto | undefined;
let zlib: typeof Zlib | undefined;
let workerThreads: typeof WorkerThreads | undefined;

/** node:crypto, loaded on first use. */
export function nodeCrypto(): typeof Crypto {
  return (crypto ??= loadBuiltin("node:crypto") as typeof Crypto);
}

/** node:zlib, loaded on first use. */
export function nodeZlib(): typeof Zlib {
  return (zlib ??= loadBuiltin("node:zlib") as typeof Zlib);
}

/** node:worker_threads, loaded on first use (a TS predictor's worker thread; never for Python). */
export function nodeWorkerThreads(): typeof WorkerThreads {
  return (workerThreads ??= loadBuiltin("node:worker_threads") as typeof WorkerThreads);
}
