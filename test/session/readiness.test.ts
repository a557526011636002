import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logger.js";
import { READY_LOG_MESSAGE } from "../../src/runtime/ready-file.js";
import { readinessOf } from "../../src/session/model-source.js";

const never = new AbortController().signal;
const KILN_CMD = ["node", "--max-semi-space-size=1", "/kiln/server.mjs"];
const COG_CMD = ["python", "-m", "cog.server.http"];

/** Whether `feed` ends a pause of the readiness' activity (the pause itself is far longer than a test). */
async function wakes(readiness: ReturnType<typeof readinessOf>, feed: () => void): Promise<boolean> {
  let woke = false;
  const pause = readiness.activity.pause(600_000, never).then(() => (woke = true));
  feed();
  await new Promise((r) => setImmediate(r));
  const result = woke;
  readiness.activity.notify(); // end the pause either way
  await pause;
  return result;
}

describe("readinessOf: what ends the wait for a container's READY", () => {
  it("kiln's server: its ready line wakes the waiter, even split across chunks; other lines do not", async () => {
    const r = readinessOf({ cmd: KILN_CMD });
    let ready = "";
    createLogger({ write: (l) => (ready = l) }).info(READY_LOG_MESSAGE, { since_start_s: 0.2 });
    expect(await wakes(r, () => r.onOutput('{"level":"info","msg":"server listening"}\n'))).toBe(false);
    expect(await wakes(r, () => r.onOutput("a print from setup()\n"))).toBe(false);
    expect(await wakes(r, () => r.onOutput(ready.slice(0, 20)))).toBe(false);
    expect(await wakes(r, () => r.onOutput(ready.slice(20)))).toBe(true);
    // The timer is a fallback only (e.g. a log level that hides the ready line).
    expect(r.intervalMs).toBeGreaterThanOrEqual(250);
  });

  it("kiln's server: output without line ends (a progress bar) wakes nothing, and the ready line after it still counts", async () => {
    const r = readinessOf({ cmd: KILN_CMD });
    let ready = "";
    createLogger({ write: (l) => (ready = l) }).info(READY_LOG_MESSAGE, { since_start_s: 0.2 });
    const bar = `\r${"#".repeat(1000)}`;
    expect(
      await wakes(r, () => {
        for (let i = 0; i < 2000; i++) r.onOutput(bar);
      }),
    ).toBe(false);
    expect(await wakes(r, () => r.onOutput(`\n${ready}`))).toBe(true);
  });

  it("kiln's server: an error line (setup failed, worker gone) wakes the waiter too", async () => {
    const r = readinessOf({ cmd: KILN_CMD });
    let line = "";
    createLogger({ write: (l) => (line = l) }).error("setup failed", { error: "boom" });
    expect(await wakes(r, () => r.onOutput(line))).toBe(true);
  });

  it("kiln's server: its ready line is the answer (announced) until an error line follows it", () => {
    const r = readinessOf({ cmd: KILN_CMD });
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    logger.info("server listening", { url: "http://127.0.0.1:5000" });
    logger.info(READY_LOG_MESSAGE, { since_start_s: 0.2 });
    logger.error("the worker died", { code: 1 });
    expect(r.announced()).toBe(false);
    r.onOutput(`${lines[0]}\n`);
    expect(r.announced()).toBe(false);
    r.onOutput(`${lines[1]}\n`);
    expect(r.announced()).toBe(true);
    r.onOutput(`${lines[2]}\n`);
    expect(r.announced()).toBe(false);
    // A print that quotes the ready line inside a log record is not the server's own line.
    const quoted = readinessOf({ cmd: KILN_CMD });
    logger.info("worker output outside a prediction", { source: "stdout", data: `${lines[1]}\n` });
    quoted.onOutput(`${lines[3]}\n`);
    expect(quoted.announced()).toBe(false);
  });

  it("other servers (Cog's) are polled, any output cutting the pause short", async () => {
    const r = readinessOf({ cmd: COG_CMD });
    expect(await wakes(r, () => r.onOutput("Setup completed\n"))).toBe(true);
    expect(r.intervalMs).toBeLessThanOrEqual(50);
    r.onOutput('{"level":"info","msg":"ready"}\n');
    expect(r.announced()).toBe(false);
  });
});
