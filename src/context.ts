/**
 * What the orchestration modules (src/session, src/publish) receive from the CLI: where to report,
 * the working directory, the Ctrl-C signal and the progress renderers. Only src/cli implements it
 * (with its Output and spinners), so these modules never decide how the terminal looks.
 */
import type { BuildEvent } from "./build/progress.js";
import type { LayerProgress } from "./docker/push.js";

/** Where results (stdout) and notes (stderr) go; src/cli/output.ts is the implementation. */
export interface Reporter {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** A result line (stdout). */
  print(line: string): void;
  /** Progress and notes (stderr); silent in --json mode. */
  info(line: string): void;
  warn(line: string): void;
  /** Shown with --debug only. */
  debug(line: string): void;
  /** The one machine-readable document of a --json run (stdout), with the manifest's `warnings`. */
  json(value: unknown): void;
  /** The loaded manifest's warnings as --json documents carry them (undefined: none was loaded). */
  readonly warnings?: readonly ManifestWarning[] | undefined;
}

/** A cog.yaml warning in a --json document. */
export interface ManifestWarning {
  /** Stable kind, e.g. `unknown_key`, `deprecated`, `cog_setting_ignored`. */
  code: string;
  message: string;
  file: string;
  line: number;
  column: number;
  /** Dotted key path; empty for the whole document. */
  path: string;
  hint?: string;
}

export const PROGRESS_MODES = ["auto", "plain", "quiet", "json"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export interface BuildProgress {
  onEvent: (e: BuildEvent) => void;
  /** Stops the spinner; `ok` false leaves the failing step on screen. */
  stop: (ok: boolean) => void;
}

export interface PushProgress {
  update(layer: LayerProgress): void;
  stop(ok: boolean): void;
}

/** Async so the terminal renderers (ora) load only when a command builds or pushes. */
export interface ProgressRenderers {
  build(mode: ProgressMode): Promise<BuildProgress>;
  /** `quiet`: --json runs show no push progress at all. */
  push(image: string, quiet: boolean): Promise<PushProgress>;
}

export interface RunContext {
  out: Reporter;
  cwd: string;
  /** Aborted on Ctrl-C: long-running work must stop and clean up when it fires. */
  signal: AbortSignal;
  debug: boolean;
  progress: ProgressRenderers;
}
