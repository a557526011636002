/**
 * Renders build events: an ora spinner with the current step and elapsed time on a TTY, plain lines in
 * CI / non-TTY / --progress plain, NDJSON with --progress json, nothing with quiet.
 */
import ora, { type Ora } from "ora";
import type { BuildProgress, ProgressMode } from "../context.js";
import type { Output } from "./output.js";

const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)}s`;

export function createBuildProgress(out: Output, mode: ProgressMode): BuildProgress {
  const started = Date.now();
  if (mode === "quiet" || out.options.json) return { onEvent: () => undefined, stop: () => undefined };
  if (mode === "json") {
    return {
      onEvent: (e) => out.stderr.write(`${JSON.stringify({ ...e, t: Date.now() - started })}\n`),
      stop: () => undefined,
    };
  }
  // Some ptys report 0 columns: ora would then compute infinitely many lines to clear. Plain lines instead.
  const columns = (out.stderr as NodeJS.WriteStream).columns ?? 0;
  if (mode === "plain" || !out.interactive || columns < 40) {
    return {
      onEvent: (e) => {
        if (e.kind === "phase") out.info(`[${elapsed(started)}] ${e.name}`);
        else if (e.kind === "step") out.info(`[${elapsed(started)}] ${e.name}`);
        else if (e.kind === "step-done" && !e.cached && e.seconds !== null && e.seconds >= 1)
          out.info(`  done in ${e.seconds.toFixed(1)}s`);
        // CI logs should show which steps the (registry) cache served.
        else if (e.kind === "step-done" && e.cached) out.info("  CACHED");
        else if (e.kind === "note") out.warn(e.text);
        else if (e.kind === "log") out.debug(`  ${e.line}`);
      },
      stop: () => undefined,
    };
  }
  let current = "starting";
  let currentSince = Date.now();
  // discardStdin off: kiln reads no keystrokes, and ora's raw-mode stdin kept the process alive afterwards.
  const spinner: Ora = ora({
    text: current,
    stream: out.stderr as NodeJS.WriteStream,
    discardStdin: false,
  }).start();
  const render = (): void => {
    spinner.text = `${current} ${out.style("dim", `(${elapsed(currentSince)}, total ${elapsed(started)})`)}`;
  };
  const timer = setInterval(render, 250);
  return {
    onEvent: (e) => {
      if (e.kind === "phase" || e.kind === "step") {
        // One line only: the elapsed suffix needs ~30 columns.
        const room = Math.max(10, columns - 32);
        const name = e.name.replace(/\s+/g, " ");
        current = name.length > room ? `${name.slice(0, room - 3)}...` : name;
        currentSince = Date.now();
        render();
      } else if (e.kind === "note") {
        spinner.clear();
        out.warn(e.text);
        spinner.render();
      }
    },
    stop: (ok) => {
      clearInterval(timer);
      if (ok) spinner.stop();
      else spinner.fail(current);
    },
  };
}
