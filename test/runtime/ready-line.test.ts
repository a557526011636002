import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat } from "../../src/runtime/logger.js";
import { READY_LOG_MESSAGE, serverLogEvent } from "../../src/runtime/ready-file.js";

/** The lines the server's own logger writes for `log`, in `format`. */
function linesOf(format: LogFormat, log: (l: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  log(createLogger({ format, level: "debug", write: (line) => lines.push(line) }));
  return lines;
}

describe("serverLogEvent: what a line of the server's output says about its state", () => {
  for (const format of ["json", "console"] as const) {
    it(`${format} logs: the ready line, error lines, and nothing else`, () => {
      const lines = linesOf(format, (l) => {
        l.info("server listening", { url: "http://127.0.0.1:5000" });
        l.info("setup completed", { seconds: 0.01 });
        l.info(READY_LOG_MESSAGE, { since_start_s: 0.131 });
        l.error("setup failed", { error: "weights missing" });
        l.warn("the predictor is synchronous: running one prediction at a time");
        l.info("prediction finished", { msg_like: "ready" });
      });
      expect(lines.map(serverLogEvent)).toEqual([
        undefined,
        undefined,
        "ready",
        "error",
        undefined,
        undefined,
      ]);
    });
  }

  it("the user's own output is not mistaken for the server's ready line", () => {
    expect(serverLogEvent("ready")).toBeUndefined();
    expect(serverLogEvent('{"msg":"ready"}')).toBeUndefined(); // no level: not the server's logger
    expect(serverLogEvent('{"level":"info","msg":"ready", "oops"')).toBeUndefined(); // not JSON
    expect(serverLogEvent("loading weights: ready in 3 s")).toBeUndefined();
    expect(serverLogEvent("")).toBeUndefined();
  });
});
