import type { RunContext } from "../context.js";
import { Output } from "./output.js";

/** What every command receives besides its own options: where to write and global flags. */
export interface CommandContext extends RunContext {
  out: Output;
}

/**
 * The context main.ts (and tests) hand to commands: the terminal's Output and its progress renderers.
 * The renderers (and ora behind them) are imported when a command first builds or pushes, so commands
 * that never do (predict IMAGE, --help) do not pay for loading them.
 */
export function createCommandContext(
  out: Output,
  opts: { cwd: string; signal: AbortSignal; debug: boolean },
): CommandContext {
  return {
    out,
    ...opts,
    progress: {
      build: async (mode) => (await import("./build-progress.js")).createBuildProgress(out, mode),
      push: async (image, quiet) => {
        const { PushProgress } = await import("./push-progress.js");
        return new PushProgress(
          quiet ? new Output({ ...out.options, json: true }, out.stdout, out.stderr) : out,
          image,
        );
      },
    },
  };
}
