/**
 * routeSelfSignals in a real worker thread: a signal the thread sends its own process must end the
 * thread (reported), never the process running the test; signal 0 and SIGINT must not end anything.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../../..");
let module = "";

beforeAll(async () => {
  module = join(mkdtempSync(join(tmpdir(), "kiln-signals-")), "thread-signals.mjs");
  await build({
    entryPoints: [join(REPO, "src/runtime/workers/node/thread-signals.ts")],
    outfile: module,
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
}, 60_000);

/** Runs `body` in a thread with the routing on; resolves with what it posted and its exit code. */
function inThread(body: string): Promise<{ posted: unknown[]; code: number }> {
  const code = [
    'import { parentPort } from "node:worker_threads";',
    `import { routeSelfSignals } from ${JSON.stringify(pathToFileURL(module).href)};`,
    "routeSelfSignals((killed) => parentPort.postMessage({ killed }));",
    body,
  ].join("\n");
  const thread = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  const posted: unknown[] = [];
  thread.on("message", (m: unknown) => posted.push(m));
  return new Promise((resolve, reject) => {
    thread.on("error", reject);
    thread.on("exit", (exitCode) => resolve({ posted, code: exitCode }));
  });
}

describe("routeSelfSignals", () => {
  it("ends the thread on a fatal signal to its own pid or group, reporting it; the process lives on", async () => {
    for (const [target, signal, number] of [
      ["process.pid", "SIGKILL", 9],
      ["0", "SIGTERM", 15],
      ["process.pid", "undefined", 15],
    ] as const) {
      const sig = signal === "undefined" ? "" : `, ${JSON.stringify(signal)}`;
      const r = await inThread(`process.kill(${target}${sig}); parentPort.postMessage("still running");`);
      expect(r.posted).toEqual([{ killed: signal === "undefined" ? "SIGTERM" : signal }]);
      expect(r.code).toBe(128 + number);
    }
  });

  it("passes signal 0 and ignores SIGINT, as a process worker does", async () => {
    const r = await inThread(
      'parentPort.postMessage(process.kill(process.pid, 0)); process.kill(process.pid, "SIGINT"); parentPort.postMessage("after");',
    );
    expect(r.posted).toEqual([true, "after"]);
    expect(r.code).toBe(0);
  });
});
