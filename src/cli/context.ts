import type { Output } from "./output.js";

/** What every command receives besides its own options: where to write and global flags. */
export interface CommandContext {
  out: Output;
  cwd: string;
  /** Aborted on Ctrl-C: long-running commands must stop and clean up when it fires. */
  signal: AbortSignal;
  debug: boolean;
}
