/**
 * The node worker's memory reducer. Under steady load the worker's heap fills with short-lived objects
 * that outlived a scavenge (a prediction's promises, frames, abort signal), and V8 collects them only
 * when the old generation reaches a limit it raises as it goes: over 30,000 no-op predictions a worker
 * thread's heap grew from 13 to 30 MB while what was alive stayed at 8 MB, and nothing collected it
 * once the load stopped. So the worker does: once no prediction has run for `delayMs` after at least
 * `minRuns` of them, one full collection (a few milliseconds for such a heap), never while predictions
 * run. The same in a process worker, where it keeps the process's heap as small.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface IdleCollector {
  /** A prediction started. */
  busy(): void;
  /** No prediction is running now. */
  idle(): void;
}

/** V8's full collection, taken once: the flag is dropped again so that no later context sees `gc`. */
function fullCollection(): () => void {
  setFlagsFromString("--expose-gc");
  try {
    return runInNewContext("gc") as () => void;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

export function idleCollector(delayMs = 500, minRuns = 500): IdleCollector {
  let collect: (() => void) | null = null;
  let runs = 0;
  let timer: NodeJS.Timeout | null = null;
  const cancel = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return {
    busy() {
      cancel();
      runs++;
    },
    idle() {
      cancel();
      if (runs < minRuns) return;
      timer = setTimeout(() => {
        timer = null;
        runs = 0;
        collect ??= fullCollection();
        collect();
      }, delayMs);
      timer.unref();
    },
  };
}
