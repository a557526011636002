/**
 * What keeps a predictor out of a worker thread: a native addon that is not context-aware can be loaded
 * once per process, so a second copy (in a thread, while the server's main thread or another thread
 * holds it) fails to register. Node reports it as ERR_DLOPEN_FAILED "Module did not self-register", or,
 * under --force-context-aware, ERR_NON_CONTEXT_AWARE_DISABLED. Such a predictor runs fine in a process
 * of its own: the server falls back to one.
 */
export function threadUnsupportedReason(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_NON_CONTEXT_AWARE_DISABLED") return e.message;
    if (code === "ERR_DLOPEN_FAILED" && /did not self-register/.test(e.message)) return e.message;
  }
  return null;
}
