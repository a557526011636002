import type { RunContext } from "../context.js";
import { createBuildProgress } from "./build-progress.js";
import { Output } from "./output.js";
import { PushProgress } from "./push-progress.js";

/** What every command receives besides its own options: where to write and global flags. */
export interface CommandContext extends RunContext {
  out: Output;
}

/** The context main.ts (and tests) hand to commands: the terminal's Output and its progress renderers. */
export function createCommandContext(
  out: Output,
  opts: { cwd: string; signal: AbortSignal; debug: boolean },
): CommandContext {
  return {
    out,
    ...opts,
    progress: {
      build: (mode) => createBuildProgress(out, mode),
      push: (image, quiet) =>
        new PushProgress(
          quiet ? new Output({ ...out.options, json: true }, out.stdout, out.stderr) : out,
          image,
        ),
    },
  };
}
