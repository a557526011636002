/**
 * Everything kiln writes to the terminal goes through here: plain lines, warnings, --json results,
 * and (for long work) spinners. Colours follow --no-color / NO_COLOR / a non-TTY stream.
 */
import { styleText } from "node:util";
import { formatProblem, type ManifestProblem } from "../errors.js";
import type { ManifestWarning } from "../context.js";

export interface OutputOptions {
  color: boolean;
  debug: boolean;
  /** Machine-readable mode: only the final JSON document goes to stdout. */
  json: boolean;
}

type Style = Parameters<typeof styleText>[0];

export class Output {
  readonly options: OutputOptions;
  /**
   * Set by commands whose --json run prints one document on stdout: manifest warnings then go into
   * that document (its `warnings` array) instead of stderr.
   */
  jsonDocument = false;
  private loadedWarnings: ManifestWarning[] | undefined;
  constructor(
    options: Partial<OutputOptions> = {},
    readonly stdout: NodeJS.WritableStream = process.stdout,
    readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    const tty = Boolean((stderr as { isTTY?: boolean }).isTTY);
    this.options = {
      color: options.color ?? (tty && !process.env.NO_COLOR && process.env.TERM !== "dumb"),
      debug: options.debug ?? false,
      json: options.json ?? false,
    };
  }

  style(style: Style, text: string): string {
    return this.options.color ? styleText(style, text) : text;
  }

  /** A result line for the user (stdout). */
  print(line: string): void {
    this.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
  }

  /** Progress and notes go to stderr so stdout stays clean for results and pipes. */
  info(line: string): void {
    if (this.options.json) return;
    this.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.style("yellow", "warning:")} ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`${this.style("red", "error:")} ${line}\n`);
  }

  debug(line: string): void {
    if (this.options.debug) this.stderr.write(`${this.style("dim", `debug: ${line}`)}\n`);
  }

  /**
   * The warnings of the manifest this run loaded: printed on stderr in the problem format, or, for a
   * --json document, kept for it (see `json`).
   */
  manifestWarnings(problems: readonly ManifestProblem[]): void {
    this.loadedWarnings = [...(this.loadedWarnings ?? []), ...problems.map(warningDocument)];
    if (this.jsonDocument) return;
    for (const problem of problems) this.warn(formatProblem(problem));
  }

  /** What a --json document carries as `warnings`; undefined when no manifest was loaded. */
  get warnings(): readonly ManifestWarning[] | undefined {
    return this.loadedWarnings;
  }

  /** The run's one JSON document; an object gets the manifest's `warnings` once one was loaded. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(withWarnings(value, this.loadedWarnings), null, 2)}\n`);
  }

  /** True when progress should be animated (TTY, not CI, not JSON). */
  get interactive(): boolean {
    return Boolean((this.stderr as { isTTY?: boolean }).isTTY) && !process.env.CI && !this.options.json;
  }
}

function warningDocument(p: ManifestProblem): ManifestWarning {
  return {
    code: p.code ?? "manifest_warning",
    message: p.message,
    file: p.file,
    line: p.line,
    column: p.column,
    path: p.path,
    ...(p.hint ? { hint: p.hint } : {}),
  };
}

/** `value` with `warnings` added (an object that does not hold its own), else `value` unchanged. */
function withWarnings(value: unknown, warnings: readonly ManifestWarning[] | undefined): unknown {
  if (warnings === undefined || typeof value !== "object" || value === null || Array.isArray(value))
    return value;
  if ("warnings" in value) return value;
  return { ...value, warnings };
}
