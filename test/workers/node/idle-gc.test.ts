import { PerformanceObserver, constants } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { idleCollector } from "../../../src/runtime/workers/node/idle-gc.js";

/** Resolves with the next full (mark-compact) collection V8 reports. */
function nextMajorGc(): Promise<void> {
  return new Promise((resolve) => {
    const observer = new PerformanceObserver((list) => {
      const major = list
        .getEntries()
        .some(
          (e) =>
            (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
            constants.NODE_PERFORMANCE_GC_MAJOR,
        );
      if (!major) return;
      observer.disconnect();
      resolve();
    });
    observer.observe({ entryTypes: ["gc"] });
  });
}

describe("idleCollector", () => {
  it("runs one full collection once predictions stopped after enough of them, without exposing gc", async () => {
    const collector = idleCollector(5, 3);
    const gc = nextMajorGc();
    for (let i = 0; i < 3; i++) {
      collector.busy();
      collector.idle();
    }
    await gc;
    expect("gc" in globalThis).toBe(false);
  });
});
